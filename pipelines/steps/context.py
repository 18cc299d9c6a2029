"""What every step builder shares: the config, the wiring, the code upload, the SDK session,
the pipeline parameters and the job settings (KMS, VPC, tags, per-execution S3 locations)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sagemaker.core.network import NetworkConfig
from sagemaker.core.processing import Processor
from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output
from sagemaker.core.workflow.execution_variables import ExecutionVariables
from sagemaker.core.workflow.functions import Join
from sagemaker.mlops.workflow import CacheConfig

from pipelines.code_bundle import CodeBundle
from pipelines.config import Config
from pipelines.wiring import Wiring

PROCESSING_ROOT = "/opt/ml/processing"
CODE_DIR = f"{PROCESSING_ROOT}/input/code"
CACHE_EXPIRY = "P30D"
# Job name bases: short, so that with the SDK's 24-character timestamp suffix they stay whole
# within SageMaker's 63-character job names even at the longest (32-character) project slug.
JOB_NAME_SUFFIXES = {"preprocess.py": "prep", "evaluate.py": "eval", "data-quality": "dq", "train": "train",
                     "drift_check.py": "drift", "model_quality.py": "mq"}


@dataclass(frozen=True)
class Parameters:
    """The pipeline parameters (`python -m pipelines.run --param Name=Value` sets them)."""

    input_uri: Any
    threshold: Any
    approval: Any
    skip_check: Any
    register_baseline: Any
    champion_model: Any
    champion_margin: Any
    data_hash: Any
    git_commit: Any

    def all(self) -> list[Any]:
        return [self.input_uri, self.threshold, self.approval, self.skip_check, self.register_baseline,
                self.champion_model, self.champion_margin, self.data_hash, self.git_commit]


@dataclass(frozen=True)
class StepContext:
    config: Config
    wiring: Wiring
    code: CodeBundle
    session: Any  # PipelineSession
    image: str
    parameters: Parameters

    @property
    def tags(self) -> list[dict[str, str]]:
        return [{"Key": k, "Value": v} for k, v in self.config.tags.items()]

    @property
    def kms(self) -> str:
        return self.wiring.kms_key_arn

    @property
    def base_uri(self) -> str:
        return f"s3://{self.wiring.artifact_bucket}/{self.config.project}/pipelines/{self.config.pipeline_name}"

    def run_uri(self, *parts: str) -> Any:
        """A per-execution S3 location, so runs never overwrite each other."""
        return Join(on="/", values=[f"{self.base_uri}/runs", ExecutionVariables.PIPELINE_EXECUTION_ID, *parts])

    def cache(self) -> CacheConfig:
        return CacheConfig(enable_caching=True, expire_after=CACHE_EXPIRY)

    def network(self, isolated: bool = True, network_class: type = NetworkConfig) -> Any:
        return network_class(
            subnets=list(self.wiring.subnet_ids), security_group_ids=list(self.wiring.security_group_ids),
            encrypt_inter_container_traffic=True, **({"enable_network_isolation": True} if isolated else {}))

    def processor(self, script: str, isolated: bool = True, instance_count: int = 1) -> Processor:
        """A processing job running `script`; `isolated=False` for code that calls AWS itself (the drift step
        reads capture from S3 and puts CloudWatch metrics, through the VPC endpoints). One instance unless the
        script shares its work over the job's hosts itself (the drift step: seedcode/cluster.py)."""
        processing = self.config.processing
        return Processor(
            role=self.wiring.role_arn, image_uri=self.image, instance_count=instance_count,
            instance_type=processing.instance_type, volume_size_in_gb=processing.volume_size_gb,
            entrypoint=["python3", f"{CODE_DIR}/{script}"], volume_kms_key=self.kms, output_kms_key=self.kms,
            base_job_name=self.job_name_base(script), sagemaker_session=self.session,
            tags=self.tags, network_config=self.network(isolated),
        )

    def job_name_base(self, job: str) -> str:
        return f"{self.config.project}-{JOB_NAME_SUFFIXES[job]}"

    def code_input(self, script: str) -> ProcessingInput:
        """The code folder of a processing step: only what `script` needs, under its own digest, so the step's
        cache key changes with that code alone (see pipelines/code_bundle.py)."""
        step_code = self.code.for_step(script)
        return self.s3_input("code", step_code.files_uri(self.wiring.artifact_bucket, self.config.project),
                             CODE_DIR)

    def code_tarball(self, script: str) -> str:
        """The sourcedir.tar.gz holding what `script` needs (script-mode training and serving)."""
        return self.code.for_step(script).tarball_uri(self.wiring.artifact_bucket, self.config.project)

    @staticmethod
    def s3_input(name: str, uri: Any, local: str) -> ProcessingInput:
        return ProcessingInput(input_name=name, s3_input=ProcessingS3Input(
            s3_uri=uri, local_path=local, s3_data_type="S3Prefix", s3_input_mode="File"))

    def s3_output(self, step: str, name: str, local: str) -> ProcessingOutput:
        return ProcessingOutput(output_name=name, s3_output=ProcessingS3Output(
            s3_uri=self.run_uri(step, name), local_path=local, s3_upload_mode="EndOfJob"))
