"""Kubernetes ``$(VAR)`` references in command, args and env values.

Kubernetes expands ``$(NAME)`` to the value of the container's variable ``NAME`` when it is
defined (for env values: defined earlier in the list), leaves the reference as written when
it is not, and turns ``$$`` into a literal ``$`` (so ``$$(NAME)`` stays ``$(NAME)``). This is
the kubelet's own rule (k8s.io/kubernetes third_party/forked/golang/expansion), rewritten here
because the batch job runs the container without a kubelet.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["expand_references"]


def expand_references(text: str, variables: Mapping[str, str]) -> str:
    """Expand ``$(NAME)`` references in ``text`` from ``variables``; ``$$`` escapes ``$``."""
    if "$" not in text:
        return text
    out: list[str] = []
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if char != "$" or index + 1 >= length:
            out.append(char)
            index += 1
            continue
        following = text[index + 1]
        if following == "$":
            out.append("$")
            index += 2
        elif following == "(":
            close = text.find(")", index + 2)
            if close == -1:
                out.append(text[index:])
                break
            name = text[index + 2 : close]
            if name in variables:
                out.append(variables[name])
            else:
                out.append(text[index : close + 1])
            index = close + 1
        else:
            out.append(char)
            index += 1
    return "".join(out)
