"""The architecture diagram is generated from the synthesized template, and every page that shows it shows the
generated one; the generator draws what a template holds, including parts this app does not have yet."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from docs import diagram, markers
from docs.graph import ALARMS, VENDOR, Graph
from docs.template import DEFAULT_BUS, load
from tests.conftest import Synthesized


def test_the_committed_diagrams_are_the_generated_one(synthesized: Synthesized) -> None:
    generated = diagram.render(synthesized.template_path)
    for page in diagram.PAGES:
        name = page.relative_to(markers.ROOT)
        assert markers.read(page, diagram.BLOCK) == generated, f"{name}: not the template's diagram: run `make diagram`"


def test_the_diagram_shows_every_function_state_machine_and_trigger(synthesized: Synthesized) -> None:
    graph = Graph(load(synthesized.template_path))
    edges = graph.edges()
    labels = _by_name(graph)
    lines = "\n".join(diagram.Mermaid(graph).lines())
    for handler in ("start_job", "detect_faces", "webhook", "execution_failed", "check_status", "store_token",
                    "finalize", "record_failure"):
        assert f"λ {handler}" in lines, handler
    assert "Standard state machine FaceSwap-Pipeline-Job" in lines and "Express state machine" in lines
    assert "subgraph Storage" in lines and "subgraph JobWorkflow" in lines  # the constructs
    assert labels["Media", "StartQueue"] == "jobs/ · videos/" and ("StartQueue", "StartJob") in labels
    assert "POST /webhook" in lines and (VENDOR, "POST") in labels
    assert "writes results/" in labels.values() and any(s == ALARMS for s, _ in edges)
    assert "-. error .->" in lines  # the Catch paths


class _Coming(Construct):
    """What other branches are adding: S3 -> SQS -> function (with a redrive queue), a table's stream -> a function
    that puts events on the default bus."""

    def __init__(self, scope: Construct) -> None:
        super().__init__(scope, "Pipeline")
        storage, ingest, job_events = (Construct(self, name) for name in ("Storage", "Ingest", "JobEvents"))
        bucket = s3.Bucket(storage, "Media")
        table = dynamodb.Table(storage, "Jobs", partition_key=dynamodb.Attribute(
            name="pk", type=dynamodb.AttributeType.STRING), stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES)
        dead = sqs.Queue(ingest, "StartDeadLetters")
        queue = sqs.Queue(ingest, "StartQueue", dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=3, queue=dead))
        bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.SqsDestination(queue),
                                      s3.NotificationKeyFilter(prefix="jobs/"))
        start = _function(ingest, "StartJob", "start_job")
        start.add_event_source(sources.SqsEventSource(queue, report_batch_item_failures=True))
        publish = _function(job_events, "PublishJobEvents", "publish_job_events")
        publish.add_event_source(sources.DynamoEventSource(
            table, starting_position=lambda_.StartingPosition.LATEST,
            filters=[lambda_.FilterCriteria.filter({"dynamodb": {"Keys": {"pk": {"S": lambda_.FilterRule.begins_with(
                "JOB#")}}}})]))
        events.EventBus.from_event_bus_name(job_events, "Bus", "default").grant_put_events_to(publish)


def _function(scope: Construct, name: str, handler: str) -> lambda_.Function:
    return lambda_.Function(scope, name, runtime=lambda_.Runtime.PYTHON_3_13, handler=f"{handler}.app.lambda_handler",
                            code=lambda_.Code.from_inline("def lambda_handler(event, context): pass"))


def test_queues_streams_and_buses_appear_without_a_change_to_the_generator(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    _Coming(cdk.Stack(app, "Coming"))
    app.synth()
    graph = Graph(load(tmp_path / "Coming.template.json"))
    named = _by_name(graph)
    assert named["Media", "StartQueue"] == "jobs/"
    assert named["StartQueue", "StartJob"] == "batches"
    assert named["StartQueue", "StartDeadLetters"] == "redrive"
    assert named["Jobs", "PublishJobEvents"] == "stream, filtered"
    assert named["PublishJobEvents", DEFAULT_BUS] == "puts events"
    lines = "\n".join(diagram.Mermaid(graph).lines())
    assert "subgraph JobEvents" in lines and "λ publish_job_events" in lines and "EventBridge bus default" in lines


def _by_name(graph: Graph) -> dict[tuple[str, str], str]:
    """The edges between resources, by the resources' construct names (StartJob, Media, ...)."""
    def name(node: str) -> str:
        return graph.t.name(node) if node in graph.t.resources else node
    return {(name(s), name(d)): label for (s, d), label in graph.edges().items()}
