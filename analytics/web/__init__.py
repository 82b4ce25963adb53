"""The engineer's energy screens (issue 16): yearly indicators, the meter tree with its
remainders and offline entries, and a meter's baseline with a retrofit's savings."""
