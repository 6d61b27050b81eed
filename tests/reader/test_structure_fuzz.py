"""The structure-aware fuzzer (tests/reader/fuzz.py): real files of h5swmr and of libhdf5 (libver
earliest and latest, dense heaps, plugin codecs), their fields mutated, each mutant read in a
child under an address-space limit and a timeout. Only H5SwmrError subclasses may come out, no
mutant may hang or exhaust memory, and no read may change the file.

The quick subset runs the same mutants every time; the ``slow`` one runs thousands, bounded by
H5SWMR_FUZZ_SEEDS (mutants per original, from seed H5SWMR_FUZZ_FIRST_SEED) and
H5SWMR_FUZZ_BUDGET (seconds, 0: no bound), and writes its figures to H5SWMR_FUZZ_REPORT if set.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.reader import fuzz

QUICK_SEEDS = range(24)
SLOW_SEEDS = int(os.environ.get("H5SWMR_FUZZ_SEEDS", "2000"))
FIRST_SLOW_SEED = int(os.environ.get("H5SWMR_FUZZ_FIRST_SEED", str(len(QUICK_SEEDS))))
SLOW_BUDGET = float(os.environ.get("H5SWMR_FUZZ_BUDGET", "120"))

Corpus = tuple[Path, dict[str, bytes], dict[str, fuzz.Layout]]
"""The folder of the originals, their bytes and what the fuzzer knows of them, by kind."""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    folder = tmp_path_factory.mktemp("structure-fuzz")
    originals = fuzz.write_originals(folder)
    return folder, originals, fuzz.layouts_of(folder, originals)


def _check(campaign: fuzz.Campaign) -> None:
    assert not campaign.failures, "\n".join(map(str, campaign.failures[:5]))
    assert not campaign.changed, f"reads changed files: {campaign.changed[:5]}"


def test_intact_originals_read_in_a_bounded_child(corpus: Corpus) -> None:
    folder, originals, _ = corpus
    for kind in originals:
        assert fuzz.read_in_child(folder / f"{kind}.h5") == fuzz.OK


def test_quick_deterministic_mutants(corpus: Corpus, tmp_path: Path) -> None:
    _, originals, layouts = corpus
    campaign = fuzz.run_campaign(originals, layouts, tmp_path, QUICK_SEEDS)
    _check(campaign)
    assert campaign.count == len(QUICK_SEEDS) * len(originals)
    # the mutants reach past the checksums into every layer: some still read whole, some fail
    # in the format decoders and some in a codec
    assert campaign.outcomes[fuzz.OK] > 0
    assert campaign.outcomes["H5SwmrError:FormatError"] > 0
    assert campaign.outcomes["H5SwmrError:FilterError"] > 0


def test_a_mutant_that_breaks_the_rules_is_caught(tmp_path: Path) -> None:
    """The child reports what escaped: a file the reader is not even given fails as OSError."""
    outcome = fuzz.read_in_child(tmp_path / "missing.h5")
    assert outcome.startswith("H5SwmrError:") or "Error" in outcome
    assert fuzz.is_acceptable("H5SwmrError:FormatError")
    assert not fuzz.is_acceptable("ZeroDivisionError: division by zero")
    assert not fuzz.is_acceptable("timeout")


@pytest.mark.slow
def test_thousands_of_mutants(corpus: Corpus, tmp_path: Path) -> None:
    _, originals, layouts = corpus
    deadline = time.monotonic() + SLOW_BUDGET if SLOW_BUDGET > 0 else float("inf")
    started = time.monotonic()
    campaign = fuzz.run_campaign(
        originals,
        layouts,
        tmp_path,
        range(FIRST_SLOW_SEED, FIRST_SLOW_SEED + SLOW_SEEDS),
        keep=lambda: time.monotonic() < deadline,
    )
    report = os.environ.get("H5SWMR_FUZZ_REPORT")
    if report:
        figures = {
            "mutants": campaign.count,
            "seconds": round(time.monotonic() - started, 1),
            "outcomes": dict(campaign.outcomes),
            "mutations": dict(campaign.mutations),
            "failures": campaign.failures,
            "changed": campaign.changed,
        }
        Path(report).write_text(json.dumps(figures, indent=1))
    _check(campaign)
    assert campaign.count >= len(originals)
