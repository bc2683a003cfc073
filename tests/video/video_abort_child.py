"""Child process of the video-mode Ctrl-C test: endless video mode, a line per frame."""

import sys

from dotstack.experiments.sweep import RunInterrupted
from dotstack.experiments.video import video_mode
from dotstack.station import LabStation
from dotstack.stations import MOCK


def tick(i, image):
    print(f"frame {i}", flush=True)


with LabStation.from_file(MOCK) as station:
    try:
        video_mode(station, ("P1", -0.05, 0.05, 40), ("P2", -0.05, 0.05, 30), frames=None,
                   set_gates={"P1": 0.02, "P2": -0.03}, display="none", on_frame=tick,
                   data_dir=sys.argv[1])
    except RunInterrupted as exc:
        print(f"aborted {exc.path}", flush=True)
        print(f"awg {station.instruments['awg'].run_state()}", flush=True)
        print(f"P1 {station.gate('P1').get():+.6f} P2 {station.gate('P2').get():+.6f}", flush=True)
        sys.exit(130)
