"""The randomized, model-based sync test of issue 12, a short seeded run: 3 accounts x 3 devices
(12.1, 14.1, 16.1), deliveries, windowed Syncs, read changes, deletes with and without
DeletesAsMoves, MoveItems in all directions, folder create/delete and lost responses; at the
end every device and a brand-new one must equal the truth, and no answer may echo a device's
own change, answer a false conflict or a wrong status (see syncmodel.py for the kinds).

Reproduce a failure with the seed it names:
    bench/model_sync.py --seed N --ops 300 --accounts 3 --devices 3
The long run with faults is bench/model_sync.py --faults."""

import os

import pytest

from syncmodel import Model

OPS = 300


@pytest.mark.parametrize("seed", [2, 4, 8])
def test_model_run(instance, seed):
    logf = os.environ.get("ZX_MODEL_LOG")       # a file for the whole operation log
    out = open("%s.%d" % (logf, seed), "w") if logf else None
    model = Model(instance, seed, accounts=3, devices=3,
                  log=(lambda line: print(line, file=out, flush=True)) if out else None)
    try:
        model.run(OPS)
        model.finish()
    finally:
        model.close()
        if out:
            out.close()
    assert model.discrepancies == [], (
        "model run failed; reproduce with bench/model_sync.py --seed %d --ops %d --accounts 3 "
        "--devices 3\n%s" % (seed, OPS, model.summary_text()))
