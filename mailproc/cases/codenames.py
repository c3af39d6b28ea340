"""Code names: neutral random words per case, for people to say aloud without a name.

Two words (`quiet-juniper`) while free pairs are easy to draw; once most of the 5,852 pairs
are taken (a few thousand cases), three (`quiet-solar-juniper`), never a number in practice.

The words avoid people, places, colours of skin, and anything that could sound like a verdict.
Randomness is injected (tests fix the seed).
"""

from __future__ import annotations

import random
from collections.abc import Callable

ADJECTIVES = (
    "amber autumn brisk calm cedar clear cobalt copper coral crisp dawn deep dusky early "
    "even fern frosty gentle glass golden granite hazel high hollow indigo ivory jade keen "
    "late linen lunar maple marble meadow mellow misty mossy north oaken opal pale pine "
    "plain quiet rapid river rocky round rustic sandy silent silver slate smooth soft solar "
    "south spring steady still stone summer swift tall teal tidal topaz velvet violet warm "
    "west wide wild willow winter woven"
).split()
NOUNS = (
    "anchor arch aspen badger beacon birch bramble breeze brook canyon cedar cinder cliff "
    "clover comet coral crane creek delta dune ember falcon feather fjord flint gale garnet "
    "glacier grove harbor hare heron hill island juniper kestrel lagoon lantern lark ledge "
    "lichen lotus marsh meadow mesa mist moth oak orchid otter owl pebble pier plover pond "
    "quail quartz raven reed ridge robin sage sparrow spruce stream summit swan thistle "
    "thrush tide trail tundra valley vale wave wren yarrow"
).split()


def new_code_name(rng: random.Random, taken: Callable[[str], bool]) -> str:
    """Two words while a free pair turns up quickly (5,852 pairs), then three (450,604)."""
    for _ in range(50):
        name = f"{rng.choice(ADJECTIVES)}-{rng.choice(NOUNS)}"
        if not taken(name):
            return name
    for _ in range(200):
        name = f"{rng.choice(ADJECTIVES)}-{rng.choice(ADJECTIVES)}-{rng.choice(NOUNS)}"
        if not taken(name) and name.split("-")[0] != name.split("-")[1]:
            return name
    n = 2
    base = f"{rng.choice(ADJECTIVES)}-{rng.choice(NOUNS)}"
    while taken(f"{base}-{n}"):
        n += 1
    return f"{base}-{n}"
