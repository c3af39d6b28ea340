"""The compiled-template cache: faster starts, never a stale or a broken template."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mailproc.config.yamlsource import ConfigError
from mailproc.mail.templates import SAMPLE_CONTEXTS, Renderer

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "templates", tmp_path / "templates")
    return tmp_path / "templates"


def _all(renderer: Renderer) -> dict[tuple[str, str], tuple[str, str]]:
    out = {}
    for name, context in SAMPLE_CONTEXTS.items():
        for lang in renderer.languages(name):
            rendered = renderer.render(name, lang, context)
            out[(name, lang)] = (rendered.subject, rendered.body)
    return out


def test_cached_templates_render_the_same(templates: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    plain = _all(Renderer(templates))
    first = _all(Renderer(templates, cache_dir=cache))
    assert len(list(cache.iterdir())) >= 2 * len(plain)  # subject and body of each
    second = _all(Renderer(templates, cache_dir=cache))
    assert plain == first == second
    assert len(plain) >= 20


def test_a_part_is_compiled_when_first_rendered(templates: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    renderer = Renderer(templates, cache_dir=cache)
    assert list(cache.iterdir()) == []  # checked at load, nothing compiled yet
    first = renderer.render("ack", "en", SAMPLE_CONTEXTS["ack"])
    assert len(list(cache.iterdir())) == 2  # its subject and its body
    renderer.render("ack", "en", SAMPLE_CONTEXTS["ack"])
    assert len(list(cache.iterdir())) == 2
    again = Renderer(templates, cache_dir=cache).render("ack", "en", SAMPLE_CONTEXTS["ack"])
    assert (again.subject, again.body) == (first.subject, first.body)


def test_an_edited_template_is_compiled_again(templates: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    Renderer(templates, cache_dir=cache)
    ack = templates / "en" / "ack.txt.j2"
    ack.write_text(ack.read_text().replace("\n\n", "\n\nEDITED {{ case.id }} LINE\n\n", 1))
    rendered = Renderer(templates, cache_dir=cache).render("ack", "en", SAMPLE_CONTEXTS["ack"])
    assert f"EDITED {SAMPLE_CONTEXTS['ack']['case']['id']} LINE" in rendered.body

    ack.write_text(ack.read_text().replace("LINE", "{{ broken"))
    with pytest.raises(ConfigError) as err:  # a syntax error is found, not hidden by the cache
        Renderer(templates, cache_dir=cache)
    assert "ack.txt.j2" in str(err.value)


def test_a_damaged_or_unwritable_cache_only_costs_time(templates: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    expected = _all(Renderer(templates, cache_dir=cache))
    for entry in cache.iterdir():
        entry.write_bytes(b"\x00garbage")
    assert _all(Renderer(templates, cache_dir=cache)) == expected

    names = [entry.name for entry in cache.iterdir()]
    shutil.rmtree(cache)
    for name in names:  # every cache file is a directory now: nothing can be read or written
        (cache / name).mkdir(parents=True)
    assert _all(Renderer(templates, cache_dir=cache)) == expected
    assert all((cache / name).is_dir() for name in names)
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    assert _all(Renderer(templates, cache_dir=blocked / "cache")) == expected
