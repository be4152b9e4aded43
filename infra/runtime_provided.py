"""Removes from a Lambda bundle the distributions the Python runtime already has.

`aws-xray-sdk` (Powertools Tracer's client) depends on botocore, so pip puts a second,
30 MB botocore (and its dependencies) into the bundle, which then shadows the runtime's
own boto3 stack: a bigger cold start and a botocore nobody upgrades. The runtime's copy
serves every import of them.

Standard library only: the Docker fallback of infra/bundling.py runs this file as a
script inside the runtime's build image, which has no CDK.
"""

import re
import shutil
import sys
from pathlib import Path

# The AWS SDK and its dependencies, as every AWS Lambda Python runtime provides them.
RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "urllib3", "six"}
)


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distribution_name(dist_info: Path) -> str:
    for line in (dist_info / "METADATA").read_text(encoding="utf-8").splitlines():
        if line.startswith("Name:"):
            return normalized(line.removeprefix("Name:").strip())
    raise ValueError(f"{dist_info}: METADATA names no distribution")


def remove_runtime_provided(target: Path) -> list[str]:
    """Deletes every file pip installed for a RUNTIME_PROVIDED distribution (its RECORD)
    and the folders left empty; returns the names removed."""
    removed = []
    for dist_info in sorted(target.glob("*.dist-info")):
        name = distribution_name(dist_info)
        if name not in RUNTIME_PROVIDED:
            continue
        folders: set[Path] = set()
        for line in (dist_info / "RECORD").read_text(encoding="utf-8").splitlines():
            relative = line.rsplit(",", 2)[0]
            # pip --target installs into a scratch prefix, then moves its bin/ in too:
            # RECORD names the scripts ../../bin/<name>.
            relative = re.sub(r"^(\.\./)+bin/", "bin/", relative)
            path = (target / relative).resolve()
            if target.resolve() not in path.parents:
                continue  # never outside the bundle
            path.unlink(missing_ok=True)
            folders.update(p for p in path.parents if target.resolve() in p.parents)
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        shutil.rmtree(dist_info, ignore_errors=True)
        removed.append(name)
    return removed


if __name__ == "__main__":
    remove_runtime_provided(Path(sys.argv[1]))
