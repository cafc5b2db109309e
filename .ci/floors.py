"""Print `name==version` for every `name>=version` of setup.cfg's install_requires (and of the
extras named as arguments): the constraints that pin `make test-min` to the declared floors."""
import configparser
import re
import sys
from pathlib import Path

config = configparser.ConfigParser()
config.read(Path(__file__).resolve().parents[1] / "setup.cfg")
lines = config["options"]["install_requires"].split("\n")
for extra in sys.argv[1:]:
    lines += config["options.extras_require"][extra].split("\n")
# Transitive pins of the floors' own era: matplotlib 3.7's mathtext calls pyparsing names that
# pyparsing 3.1 deprecated (a warning the tests rightly treat as an error).
ERA = ["pyparsing<3.1"]
for line in lines:
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-\[\]]+?)(\[[^\]]*\])?>=([0-9.]+)\s*", line)
    if match:
        print(f"{match.group(1)}=={match.group(3)}")
print("\n".join(ERA))
