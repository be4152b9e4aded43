"""The CDK app: `cdk synth` / `cdk deploy` run it (cdk.json), and so does `make synth`.

Exits non-zero, naming each finding, when cdk-nag reports an unsuppressed error.
"""

import sys

from infra.app import build_app, errors_of

if __name__ == "__main__":
    errors = errors_of(build_app().synth())
    for error in errors:
        print(error, file=sys.stderr)
    sys.exit(1 if errors else 0)
