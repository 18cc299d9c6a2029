"""Pin the root module's local module sources to a released template version.

The template's root module calls its library as `source = "./modules/<name>"`. A generated team
repository receives the root `.tf` files but not `infra/modules/`, so its post-generation hook
rewrites every such source into a git URL pinned to the template release::

    source = "./modules/kms"
    ->  #checkov:skip=CKV_TF_1:<why a release tag rather than a commit hash>
        source = "git::https://github.com/acme/ml-factory-template.git//infra/modules/kms?ref=v1.4.0"

checkov's CKV_TF_1 asks for a commit hash; the tag is the template's versioning contract, so the
rewrite adds an inline skip with that reason right above the source (checkov wants every skip
explained, and the template itself, with local sources, needs none).

Standard library only: the hook imports this before any dependency is installed.
"""

from __future__ import annotations

import re

_LOCAL_SOURCE = re.compile(
    r'^(?P<lead>[ \t]*source[ \t]*=[ \t]*)"\./modules/(?P<name>[a-z0-9][a-z0-9_-]*)"(?P<trail>[ \t]*(?:#.*)?)$',
    flags=re.MULTILINE,
)
_ANY_LOCAL_MODULE = re.compile(r'^[ \t]*source[ \t]*=.*"\.{1,2}/.*modules/', flags=re.MULTILINE)
_TAG_SKIP = (
    "#checkov:skip=CKV_TF_1:Pinned to the template release tag {ref}, the template's versioning contract; "
    "release tags are never moved once published."
)
_VERSION = re.compile(r"^v?(?P<version>\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?)$")


def pin_module_sources(tf_text: str, template_source: str, version: str) -> str:
    """Rewrite each `source = "./modules/<name>"` into `<template_source>//infra/modules/<name>?ref=v<version>`.

    `template_source` is a Terraform git source without a subdirectory or query, e.g.
    `git::https://github.com/acme/ml-factory-template.git`; `version` is a release such as
    `1.4.0` (a leading `v` is accepted). Raises ValueError on a malformed argument, or when a
    local module source remains that is not in the exact one-line form. Each pinned source is
    preceded by a `#checkov:skip=CKV_TF_1:<reason>` line.
    """
    match = _VERSION.match(version.strip())
    if not match:
        raise ValueError(f"version {version!r} is not a release version like 1.4.0")
    source = template_source.strip()
    if not source or any(c in source for c in ' \t\n"?') or source.endswith("/"):
        raise ValueError(
            f"template_source {template_source!r} must be a git source without spaces, quotes, query or trailing "
            "slash, e.g. git::https://github.com/acme/ml-factory-template.git"
        )
    ref = f"v{match.group('version')}"

    def pinned(found: re.Match[str]) -> str:
        url = f"{source}//infra/modules/{found.group('name')}?ref={ref}"
        indent = found.group("lead")[: len(found.group("lead")) - len(found.group("lead").lstrip())]
        # the skip goes above the source: below it, it would split `source` from a following `count`, and
        # terraform fmt aligns the `=` of adjacent arguments only
        return f'{indent}{_TAG_SKIP.format(ref=ref)}\n{found.group("lead")}"{url}"{found.group("trail")}'

    result = _LOCAL_SOURCE.sub(pinned, tf_text)
    leftover = _ANY_LOCAL_MODULE.search(result)
    if leftover:
        raise ValueError(f'module source not in the form `source = "./modules/<name>"`: {leftover.group(0).strip()!r}')
    return result
