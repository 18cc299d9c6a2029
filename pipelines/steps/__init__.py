"""One builder per pipeline step: a small function from the shared `StepContext` to an SDK step.

The modules here import the SageMaker SDK at module level. Import them only through
`pipelines.definition.build_pipeline`, which loads the SDK first (`pipelines.sdk.load_sdk`).
"""
