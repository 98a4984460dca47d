#!/usr/bin/env python3
"""A CycloneDX 1.5 software bill of materials of the `sen` binary, offline.

What is compiled into the image's one binary: the crates `sen-cli` depends on
through normal (not dev- or build-only) dependencies with the features Cargo
resolves for that package (`cargo tree`), at the versions Cargo.lock holds, each with its version, package URL, licence and the SHA-256
checksum Cargo.lock records, and the dependency graph between them. It reads
`cargo metadata` and `cargo tree` (`--locked --offline`: the registry cache a
build fills, no network) and Cargo.lock; nothing else.

    python3 deploy/sbom.py --out sen.cdx.json    # CI keeps it as an artefact

The output is the same for the same Cargo.lock (no timestamp; the serial
number is derived from Cargo.lock), so it can be compared between releases.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINARY_PACKAGE = "sen-cli"
TARGET = "x86_64-unknown-linux-gnu"


def cargo(*args: str) -> str:
    """`cargo <args> --locked --offline`; on a machine whose registry cache lacks a
    crate of Cargo.lock (nothing built there yet), `cargo fetch --locked` first."""
    command = ["cargo", *args, "--locked", "--offline"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        subprocess.run(["cargo", "fetch", "--locked"], cwd=ROOT, check=True)
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr}")
    return result.stdout


def metadata() -> dict:
    return json.loads(cargo("metadata", "--format-version", "1", "--filter-platform", TARGET))


def built_for_the_binary() -> set[tuple[str, str]]:
    """(name, version) of every crate `cargo build -p sen-cli` compiles through normal
    dependencies, with the features resolved for that package alone (`cargo
    metadata` unifies features across the workspace, so a feature only the tests
    turn on would bring their crates in)."""
    tree = cargo("tree", "-p", BINARY_PACKAGE, "-e", "normal", "--prefix", "none", "-f", "{p}", "--target", TARGET)
    crates = set()
    for line in tree.splitlines():
        name, _, rest = line.strip().partition(" v")
        if name and rest:
            crates.add((name, rest.split()[0]))
    return crates


def shipped(meta: dict) -> set[str]:
    """Package ids reachable from the binary's package through normal dependencies."""
    built = built_for_the_binary()
    nodes = {node["id"]: node for node in meta["resolve"]["nodes"]}
    (start,) = [p["id"] for p in meta["packages"] if p["name"] == BINARY_PACKAGE]
    seen, todo = set(), [start]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for dep in nodes[current]["deps"]:
            if any(kind["kind"] is None for kind in dep["dep_kinds"]):
                todo.append(dep["pkg"])
    packages = {p["id"]: (p["name"], p["version"]) for p in meta["packages"]}
    return {package_id for package_id in seen if packages[package_id] in built}


def purl(package: dict) -> str:
    return f"pkg:cargo/{package['name']}@{package['version']}"


def bom() -> dict:
    meta = metadata()
    lock_text = (ROOT / "Cargo.lock").read_text()
    checksums = {(p["name"], p["version"]): p.get("checksum") for p in tomllib.loads(lock_text)["package"]}
    packages = {p["id"]: p for p in meta["packages"]}
    workspace = set(meta["workspace_members"])
    ids = shipped(meta)
    nodes = {node["id"]: node for node in meta["resolve"]["nodes"]}
    binary = next(p for p in meta["packages"] if p["name"] == BINARY_PACKAGE)

    def ref(package_id: str) -> str:
        package = packages[package_id]
        return purl(package) if package_id not in workspace else f"workspace:{package['name']}@{package['version']}"

    components = []
    for package_id in sorted(ids - {binary["id"]}, key=lambda i: (packages[i]["name"], packages[i]["version"])):
        package = packages[package_id]
        component = {
            "type": "library",
            "bom-ref": ref(package_id),
            "name": package["name"],
            "version": package["version"],
        }
        if package_id in workspace:
            component["description"] = package.get("description") or "part of the SEN oversight platform"
        else:
            component["purl"] = purl(package)
            checksum = checksums.get((package["name"], package["version"]))
            if checksum:
                component["hashes"] = [{"alg": "SHA-256", "content": checksum}]
            if package.get("license"):
                component["licenses"] = [{"expression": package["license"]}]
            if package.get("repository"):
                component["externalReferences"] = [{"type": "vcs", "url": package["repository"]}]
        components.append(component)
    dependencies = [
        {
            "ref": ref(package_id),
            "dependsOn": sorted(
                {ref(d["pkg"]) for d in nodes[package_id]["deps"] if d["pkg"] in ids and any(k["kind"] is None for k in d["dep_kinds"])}
            ),
        }
        for package_id in sorted(ids, key=ref)
    ]
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'sen-sbom:' + hashlib.sha256(lock_text.encode()).hexdigest())}",
        "version": 1,
        "metadata": {
            "tools": {"components": [{"type": "application", "name": "deploy/sbom.py", "description": "from cargo metadata and Cargo.lock"}]},
            "component": {
                "type": "application",
                "bom-ref": ref(binary["id"]),
                "name": "sen",
                "version": binary["version"],
                "description": "SEN oversight platform: the one binary of the container image (deploy/Dockerfile)",
            },
        },
        "components": components,
        "dependencies": dependencies,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="where to write the SBOM (JSON)")
    args = parser.parse_args()
    document = bom()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"  {args.out}: {len(document['components'])} components of {document['metadata']['component']['name']}")


if __name__ == "__main__":
    main()
