"""The whole product on this machine: embedded AWS, the local API and a demo workspace."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from batch_calls import store
from batch_calls.logic.admin import NewWorkspace
from local.api_gateway import LocalApiGateway
from local.aws import EmbeddedAws
from local.demo import seed_workspace

ENV_FILE = Path(".local") / "env"


@dataclass(frozen=True)
class LocalRuntime:
    aws: EmbeddedAws
    gateway: LocalApiGateway
    demo: NewWorkspace

    def env(self) -> dict[str, str]:
        """What a shell needs to use this runtime with curl and the AWS CLI."""
        return {
            "API_URL": self.gateway.url,
            "API_KEY": self.demo.api_key,
            "WORKSPACE_ID": self.demo.workspace.workspace_id,
            "BUCKET": store.blobs().bucket,
            **self.aws.connection_env(),
            "TABLE_NAME": store.database().table.name,
        }

    def write_env_file(self, path: Path = ENV_FILE) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{name}={value}\n" for name, value in self.env().items()))
        return path


@contextmanager
def running(port: int = 0) -> Iterator[LocalRuntime]:
    """Start everything; stop it all on exit (Ctrl-C included)."""
    with EmbeddedAws() as aws, LocalApiGateway(port=port) as gateway:
        yield LocalRuntime(aws, gateway, seed_workspace(store.database()))
