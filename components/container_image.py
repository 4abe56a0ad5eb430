"""A service image in the account's own ECR repository: immutable tags, scanned on push, encrypted with the
account key.

Two ways to get the image there, by config:
- a digest (`sha256:...`): the bank's CI built the image and promoted it into this repository; the task
  runs exactly `<repository>@<digest>` and `pulumi up` needs no Docker;
- no digest: `pulumi up` builds the image from its Dockerfile (docker-build provider, BuildKit) and pushes it
  under a tag derived from the build context's content, so an unchanged context is neither rebuilt nor
  pushed twice (the tag is immutable). This needs a Docker daemon (or a BuildKit builder) where `pulumi up`
  runs; preview builds nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_docker_build as docker_build

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
#: Untagged layers are removed after this many days; tagged images are kept (deployments pin them).
UNTAGGED_DAYS = 14


def context_tag(context: Path, dockerfile: Path) -> str:
    """A tag that changes exactly when what the Dockerfile copies changes: the Dockerfile and every file under
    the paths its COPY lines name (bytecode and caches excluded), hashed in a stable order."""
    digest = hashlib.sha256(dockerfile.read_bytes())
    sources: list[Path] = []
    for line in dockerfile.read_text().splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith("--from") for w in words):
            sources += [context / w for w in words[1:-1] if not w.startswith("--")]
    for source in sorted(sources):
        files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo"):
                continue
            digest.update(str(path.relative_to(context)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


@dataclass(frozen=True)
class ContainerImageArgs:
    """One service's image."""

    #: Repository name, e.g. "prod-workload-pis/pis".
    repository_name: str
    #: The account key the repository is encrypted with.
    kms_key_arn: pulumi.Input[str]
    #: The digest CI promoted into the repository; None builds the image at `pulumi up`.
    digest: str | None
    #: Build context (the services directory) and the Dockerfile in it; used when `digest` is None.
    context: Path
    #: The Dockerfile, inside `context`.
    dockerfile: Path
    #: The platform the tasks run on.
    platform: str = "linux/amd64"
    #: Prod: `protect` the repository (running tasks pull from it).
    protect: bool = True


class ContainerImage(pulumi.ComponentResource):
    """`image` is what a task definition runs: `<repository url>@sha256:...` or the pushed build's ref."""

    repository: aws.ecr.Repository
    image: pulumi.Output[str]

    def __init__(self, name: str, args: ContainerImageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:compute:ContainerImage", name, None, opts)
        if args.digest is not None and not DIGEST.match(args.digest):
            raise ValueError(f"{name}: {args.digest!r} is not an image digest (sha256: and 64 hex digits)")
        self.repository = aws.ecr.Repository(
            f"{name}-repository",
            name=args.repository_name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(
                encryption_type="KMS", kms_key=args.kms_key_arn)],
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle", repository=self.repository.name,
            policy=json.dumps({"rules": [{
                "rulePriority": 1, "description": f"untagged layers after {UNTAGGED_DAYS} days",
                "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                              "countNumber": UNTAGGED_DAYS},
                "action": {"type": "expire"}}]}),
            opts=pulumi.ResourceOptions(parent=self.repository))
        if args.digest is not None:
            self.image = pulumi.Output.concat(self.repository.repository_url, "@", args.digest)
        else:
            token = aws.ecr.get_authorization_token_output(registry_id=self.repository.registry_id,
                                                           opts=pulumi.InvokeOutputOptions(parent=self))
            built = docker_build.Image(
                f"{name}-build",
                context=docker_build.BuildContextArgs(location=str(args.context)),
                dockerfile=docker_build.DockerfileArgs(location=str(args.dockerfile)),
                platforms=[docker_build.Platform(args.platform)],
                tags=[pulumi.Output.concat(self.repository.repository_url, ":",
                                           context_tag(args.context, args.dockerfile))],
                push=True,
                build_on_preview=False,
                registries=[docker_build.RegistryArgs(address=self.repository.repository_url,
                                                      username=token.user_name, password=token.password)],
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.image = built.ref
        self.repository_arn = self.repository.arn
        self.register_outputs({"image": self.image, "repositoryArn": self.repository_arn})
