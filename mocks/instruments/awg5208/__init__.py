"""Mock Tektronix AWG5208: 8 channels, waveform and sequence lists, markers, triggers, files.

Speaks the AWG5200/AWG70000 command set well enough for QCoDeS' ``TektronixAWG5208`` driver
(unmodified: .wfmx/.seqx files through ``MMEMory``) and for our `dotstack.drivers.awg5208`
(``WLISt``/``SLISt`` with binary blocks).  On ``AWGControl:RUN`` every channel plays its
assigned sequence track (or waveform, looped) in lab time; wait-for-trigger steps wait for
``TRIGger`` or a pulse on ``awg.trigA``/``awg.trigB`` from the lab's cabling, and every rising
marker edge pulses ``awg.marker<k>`` (channel 1) / ``awg.ch<n>_marker<k>`` on the cabling at
its lab time.

What the channels play, for tests and for the time-domain lab (the hook it will use):

* ``model.channel_segments(channel, t0, t1)`` -> ``[(lab time, volts, sample rate), ...]``
  pieces tiling [t0, t1) (repeats expanded; a hold -- waiting for a trigger, stopped, idle --
  is one sample whose rate is 1 / its duration);
* ``model.segments(channel, t0, t1)`` -> `Segment` (start, volts, repeat count, rate, kind),
  repeats not expanded;
* ``model.output(channel, times)`` -> volts (vectorised); ``model.stream(channel, n)`` -> the
  first n samples played since RUN, trigger waits left out (compare with ``sequencer.render``).

Volts are ``sample * amplitude / 2 + offset`` with the sample quantised to the channel's DAC
resolution, 0 V while the output is off.

Behaviour the manual excerpts at hand do not settle, chosen here (change it when a real
instrument says otherwise): *RST clears the waveform and sequence lists (files stay); GOTO NEXT
on the last step goes to the first, GOTO END ends the sequence with the output holding its last
sample (run state stays 2); a trigger that arrives while no step waits for it is lost; triggers
act with no latency; a stopped channel outputs its offset; changing an asset a run uses stops
the run; waveforms in a sequence need >= 2400 samples; WLISt:LIST? answers one quoted,
comma-separated string; marker byte bit k-1 is marker k; markers need the channel's output on.

Modules: `limits`, `state`, `files` (.wfmx/.seqx parsing), `timeline` (sequence playback),
`output` (segments and values), `markers` (edges), `base` (clock, run control, markers),
`lists` (WLISt/SLISt), `channels` (SOURce/OUTPut/FGEN), `system` (AWGControl, TRIGger, CLOCk,
MMEMory), `model`.
"""

from dotstack.mocks.instruments.awg5208.model import AWG5208Model
from dotstack.mocks.instruments.awg5208.output import Segment

__all__ = ["AWG5208Model", "Segment"]
