#!/usr/bin/env python3
"""Writes a large, valid runbook for the validate/plan benchmark, and the
equivalent Ansible playbook for the peer measurement.

usage: gen_runbook.py STEPS OUT.toml [OUT-playbook.yml]

Steps form waves of 10; each step runs after two steps of the previous wave
and passes an output of one of them on, so the validator checks real
dependencies and step-output references (a DAG, not a chain).
"""
import sys


def main() -> None:
    steps = int(sys.argv[1])
    out = sys.argv[2]
    width = 10
    lines = [
        "[runbook]",
        'name = "bench-large"',
        'service = "bench"',
        'owner = "bench"',
        "",
        "[objectives]",
        'rto = "1h"',
        "",
        "[policy]",
        "max_parallel = 8",
        'default_timeout = "1m"',
        'data_residency = ["eu-*"]',
        "",
        "[vars]",
        'region = "eu-west-1"',
        "",
        "[targets.scratch]",
        'plugin = "file"',
        'region = "eu-west-1"',
        'root = "/tmp/lifeboat-bench"',
        "",
        "[targets.copy]",
        'region = "eu-central-1"',
        "",
    ]
    for i in range(steps):
        lines.append("[[step]]")
        lines.append(f'id = "s{i}"')
        wave, slot = divmod(i, width)
        if wave > 0:
            a = (wave - 1) * width + slot
            b = (wave - 1) * width + (slot + 1) % width
            lines.append(f'after = ["s{a}", "s{b}"]')
        if i % 5 == 0:
            lines.append('target = "scratch"')
            lines.append('action = "write"')
            lines.append(f'with = {{ path = "f{i}.txt", content = "${{run.id}} {i}" }}')
        else:
            lines.append('target = "copy"')
            arg = f"${{steps.s{(wave - 1) * width + slot}.outputs.value}}" if wave > 0 else "start"
            lines.append(f'exec = ["/usr/local/bin/step", "--region", "${{vars.region}}", "{arg}"]')
            lines.append('timeout = "30s"')
        if i == steps - 1:
            lines.append("restores_service = true")
        lines.append("")
    with open(out, "w") as handle:
        handle.write("\n".join(lines))

    if len(sys.argv) > 3:
        # The peer: the same number of tasks as an Ansible playbook.
        tasks = ["- hosts: localhost", "  gather_facts: false", "  tasks:"]
        for i in range(steps):
            tasks.append(f"    - name: s{i}")
            tasks.append("      ansible.builtin.command:")
            tasks.append(f"        argv: [/usr/local/bin/step, --region, eu-west-1, 's{i}']")
            tasks.append("      timeout: 30")
        with open(sys.argv[3], "w") as handle:
            handle.write("\n".join(tasks) + "\n")


if __name__ == "__main__":
    main()
