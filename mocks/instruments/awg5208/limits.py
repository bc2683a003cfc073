"""Fixed figures of the AWG5208 mock (datasheet values from memory where marked: unverified)."""

N_CHANNELS = 8
N_MARKERS = 4
MAX_SAMPLE_RATE = 2.5e9  # Sa/s (QCoDeS SRValidator for the 5208)
MIN_SAMPLE_RATE = 1.49e3  # Sa/s (QCoDeS SRValidator)
AMPLITUDE_RANGE = (0.025, 1.5)  # Vpp; QCoDeS allows 0.25..1.5 (DC High BW path); 25 mV guessed
OFFSET_RANGE = (-2.0, 2.0)  # V (QCoDeS `offset` validator)
RESOLUTIONS = (12, 13, 14, 15, 16)  # bits; 16 - k leaves k marker bits (QCoDeS)
MARKER_HIGH = (-0.5, 1.75)  # V (QCoDeS)
MARKER_LOW = (-0.3, 1.55)  # V (QCoDeS)
#: Shortest waveform a sequence step (or a channel) plays: QCoDeS' .wfmx check; unverified.
MIN_WAVEFORM_LENGTH = 2400
MAX_STEPS = 16383  # QCoDeS force_jump range; unverified
MAX_REPEAT = 2**20  # unverified
MAX_TRACKS = 8
#: Longest program message: the manual's WLISt:WAVeform:DATA limit is 650,000,000 bytes.
MAX_MESSAGE_BYTES = 1 << 30
#: Lab time per byte received on a virtual clock (~100 MB/s over LAN; a guess).
BYTE_TIME = 1e-8
DEFAULT_DIRECTORY = "\\Users\\OEM\\Documents"  # QCoDeS' default folder
