"""`make diagram`: the architecture as a Mermaid flowchart (GitHub draws it from a ```mermaid block), generated
from the synthesized template and written into the pages that show it.

Each construct of the pipeline is a box (Storage, Ingest, ...), each state machine a box of its main states;
docs/graph.py says what is read. Data access is dotted, a state's Catch dashed with "error".
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from docs import markers
from docs.graph import ALARMS, DATA, ERROR, INTEGRATION, MAIN_STATES, VENDOR, Graph
from docs.template import DEFAULT_BUS, load

TEMPLATE = markers.ROOT / "cdk.out" / "FaceSwap.template.json"
PAGES = (markers.ROOT / "README.md", markers.ROOT / "docs" / "architecture.md")
BLOCK = "diagram"
VENDOR_LABEL = "YouCam API (external)"
SHAPES = {"AWS::Lambda::Function": '["λ ', "AWS::SQS::Queue": '[["SQS ', "AWS::S3::Bucket": '[("S3 ',
          "AWS::DynamoDB::Table": '[("DynamoDB ', "AWS::SecretsManager::Secret": '{{"Secret ',
          "AWS::Events::EventBus": '>"EventBridge bus ', "AWS::Events::Rule": '>"EventBridge rule ',
          "AWS::SNS::Topic": '(["SNS ', "AWS::ApiGateway::Method": '(["API Gateway ', ALARMS: '(["', VENDOR: '(["',
          "Task": '["', "Wait": '(["', "Fail": '{{"', "Map": '[["', "Parallel": '[["'}
CLOSING = {"[": "]", "[[": "]]", "[(": ")]", "{{": "}}", ">": "]", "([": "])"}
ARROWS = {"": "-->", DATA: "-.-", ERROR: "-. error .->"}


def shape(kind: str, *lines: str) -> str:
    opening = SHAPES[kind]
    text = "<br/>".join(t.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;") for t in lines)
    return f'{opening}{text}"{CLOSING[opening.split(chr(34))[0]]}'


class Mermaid:
    def __init__(self, graph: Graph) -> None:
        self.g, self.t = graph, graph.t
        self.short: dict[str, str] = {}  # logical id -> the node's id: its construct name, else group_name
        for naming in (self.t.name, lambda lid: f"{self.t.group(lid)}_{self.t.name(lid)}"):
            names = {lid: re.sub(r"\W", "_", naming(lid)) for lid in self.t.resources if lid not in self.short}
            taken = [*names.values(), *self.short.values(), ALARMS, VENDOR, DEFAULT_BUS]
            self.short |= {lid: name for lid, name in names.items() if taken.count(name) == 1}

    def id(self, node: str) -> str:
        """A node's id in the diagram's source: its construct name where that is unique."""
        if node in self.g.states:
            machine, state, _ = self.g.states[node]
            return f"{self.id(machine)}_{list(self.g.machines[machine]['States']).index(state)}"
        return self.short.get(node, node)

    def lines(self) -> list[str]:
        edges = self.g.edges()
        groups: dict[str, list[str]] = {}
        for lid in dict.fromkeys([*self.g.functions, *self.g.machines, *(n for edge in edges for n in edge)]):
            if lid not in self.g.states and lid not in self.g.called_by:
                groups.setdefault(self.group(lid), []).append(lid)
        out = ["flowchart LR"]
        for group, members in groups.items():
            inner = [line for lid in members for line in self.declare(lid)]
            out += [f"  subgraph {group}", *(f"  {line}" for line in inner), "  end"] if group else inner
        return out + [f"  {self.id(s)} {ARROWS[label]} {self.id(d)}" if label in ARROWS
                      else f'  {self.id(s)} -->|"{label}"| {self.id(d)}' for (s, d), label in edges.items()]

    def group(self, lid: str) -> str:
        """The construct a node is drawn in ("": none)."""
        if lid == ALARMS:
            return self.t.group(self.t.of_type("AWS::CloudWatch::Alarm")[0][0])
        return "" if lid in (VENDOR, DEFAULT_BUS) else self.t.group(lid)

    def declare(self, lid: str) -> list[str]:
        if lid in self.g.machines:
            properties = self.t.resources[lid]["Properties"]
            name = properties.get("StateMachineName")
            title = (f"{str(properties.get('StateMachineType', 'STANDARD')).title()} state machine "
                     f"{name if isinstance(name, str) else self.t.name(lid)}")
            states = [f"  {self.id(node)}{self.state(n, state)}" for node, (m, n, state) in self.g.states.items()
                      if m == lid and state["Type"] in MAIN_STATES]
            return [f'  subgraph {self.id(lid)}["{title}"]', *states, "  end"]
        alarms = f"{len(self.t.of_type('AWS::CloudWatch::Alarm'))} CloudWatch alarms"
        label = {ALARMS: alarms, VENDOR: VENDOR_LABEL}.get(lid) or self.g.functions.get(lid) or self.name(lid)
        return [f"  {self.id(lid)}{shape(lid if lid in (ALARMS, VENDOR) else self.t.kind(lid), label)}"]

    def name(self, lid: str) -> str:
        if self.t.kind(lid) != "AWS::ApiGateway::Method":
            return self.t.name(lid)
        properties, parts = self.t.resources[lid]["Properties"], list[str]()
        resource = self.t.targets(properties.get("ResourceId"))
        while resource and self.t.kind(resource[0]) == "AWS::ApiGateway::Resource":
            parts.insert(0, self.t.resources[resource[0]]["Properties"]["PathPart"])
            resource = self.t.targets(self.t.resources[resource[0]]["Properties"].get("ParentId"))
        return f"{properties['HttpMethod']} /{'/'.join(parts)}"

    def state(self, name: str, state: dict[str, Any]) -> str:
        if (fn := self.g.task_function(state)) is not None:
            return shape("Task", name, f"λ {self.g.functions[fn]}")
        if call := INTEGRATION.search(str(state.get("Resource", ""))):
            return shape("Task", name, f"{call['service']}:{call['action']}{call['pattern'] or ''}")
        return shape(state["Type"], name)


def render(template_path: Path) -> str:
    """The generated block: a note naming its source, then the ```mermaid fence."""
    diagram = "\n".join(Mermaid(Graph(load(template_path))).lines())
    return f"{markers.NOTE.format(source='the synthesized template')}\n```mermaid\n{diagram}\n```\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    block = render(parser.parse_args().template)
    for page in PAGES:
        if markers.write(page, BLOCK, block):
            print(f"wrote the diagram into {page.relative_to(markers.ROOT)}")


if __name__ == "__main__":
    main()
