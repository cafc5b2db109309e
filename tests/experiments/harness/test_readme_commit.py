"""experiments.harness.readme.commit_label: the README never hides that results were made from
uncommitted code (engine.io.version records that commit as '<sha>-dirty')."""
from experiments.harness.readme import commit_label

SHA = "28671a4b377d581e746311dd58d5390d5e57eab7"


def test_commit_label_says_when_the_work_tree_differed():
    assert commit_label(SHA) == "28671a4b377d"
    assert commit_label(SHA + "-dirty") == "28671a4b377d, with uncommitted changes"
    assert commit_label(None) == commit_label("") == "unknown"
