#!/usr/bin/env python3
"""Writes the inputs of the execution-engine benchmark (bench/engine.sh):
a runbook of STEPS `exec` steps that each run /bin/true, and the same work
for the peers: a Makefile (for `make -j`) and an Ansible playbook.

usage: gen_exec_runbook.py STEPS {chain,independent} OUT.toml
           [--max-parallel N] [--makefile OUT.mk] [--playbook OUT.yml]

chain        each step runs after the one before it (`after`), so the run is
             strictly sequential whatever max_parallel says;
independent  no `after` at all, so up to max_parallel steps run at once.

The runbook sets no objectives: the benchmark measures the engine, not an
RTO. Every step names a non-production target, so a drill runs it.
"""
import argparse


def runbook(steps: int, shape: str, max_parallel: int) -> str:
    lines = [
        "[runbook]",
        f'name = "bench-exec-{shape}-{steps}"',
        'service = "bench"',
        "",
        "[policy]",
        f"max_parallel = {max_parallel}",
        "",
        "[targets.local]",
        'region = "local"',
        "",
    ]
    for i in range(steps):
        lines.append("[[step]]")
        lines.append(f'id = "s{i}"')
        lines.append('target = "local"')
        if shape == "chain" and i > 0:
            lines.append(f'after = ["s{i - 1}"]')
        lines.append('exec = ["/bin/true"]')
        lines.append("")
    return "\n".join(lines)


def makefile(steps: int, shape: str) -> str:
    # A recipe without shell metacharacters is executed by GNU make directly,
    # without a shell, as the agent does.
    names = [f"s{i}" for i in range(steps)]
    lines = [".PHONY: all " + " ".join(names), "all: " + " ".join(names), ""]
    for i, name in enumerate(names):
        prerequisite = f" s{i - 1}" if shape == "chain" and i > 0 else ""
        lines.append(f"{name}:{prerequisite}")
        lines.append("\t@/bin/true")
    return "\n".join(lines) + "\n"


def playbook(steps: int) -> str:
    lines = ["- hosts: localhost", "  connection: local", "  gather_facts: false", "  tasks:"]
    for i in range(steps):
        lines.append(f"    - name: s{i}")
        lines.append("      ansible.builtin.command: /bin/true")
        lines.append("      changed_when: false")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("steps", type=int)
    parser.add_argument("shape", choices=["chain", "independent"])
    parser.add_argument("out")
    parser.add_argument("--max-parallel", type=int, default=1)
    parser.add_argument("--makefile")
    parser.add_argument("--playbook")
    args = parser.parse_args()

    with open(args.out, "w") as handle:
        handle.write(runbook(args.steps, args.shape, args.max_parallel))
    if args.makefile:
        with open(args.makefile, "w") as handle:
            handle.write(makefile(args.steps, args.shape))
    if args.playbook:
        with open(args.playbook, "w") as handle:
            handle.write(playbook(args.steps))


if __name__ == "__main__":
    main()
