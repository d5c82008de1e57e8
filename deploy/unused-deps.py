#!/usr/bin/env python3
"""Lists dependencies a workspace crate declares but never names in its code (make lint).

A dependency counts as used when its crate name (dashes as underscores) appears in any Rust file
of the package (src, tests, examples, benches, build.rs). A few are used without being named;
they are listed in ALLOWED with the reason. Exit status 1 when something is unused.
"""
import pathlib
import re
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Dependencies used without their name in the code, per package.
ALLOWED = {}


def members():
    workspace = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["members"]
    for pattern in workspace:
        for path in sorted(ROOT.glob(pattern)):
            if (path / "Cargo.toml").exists():
                yield path


def main():
    unused = []
    for package in members():
        manifest = tomllib.loads((package / "Cargo.toml").read_text())
        name = manifest["package"]["name"]
        code = "\n".join(p.read_text() for p in package.rglob("*.rs") if "target" not in p.parts)
        for section in ("dependencies", "dev-dependencies"):
            for dep in manifest.get(section, {}):
                ident = dep.replace("-", "_")
                if dep in ALLOWED.get(name, {}):
                    continue
                if not re.search(rf"\b{re.escape(ident)}\b", code):
                    unused.append(f"{name}: [{section}] {dep}")
    for line in unused:
        print(f"unused dependency: {line}")
    return 1 if unused else 0


if __name__ == "__main__":
    sys.exit(main())
