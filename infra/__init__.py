"""The stratoflow CDK app: a shared data plane plus one Step Functions state machine per workflow.

``app.py`` instantiates the stack from ``cdk.json`` context, ``stacks/`` composes the
constructs and wires grants, ``constructs/`` holds one concern per construct.
"""
