"""Label policy (single-class and default-label modes), taxonomy, shortcuts and settings, without a display."""

import pytest

from implant_desk.app.controllers import taxonomy
from implant_desk.app.controllers.labels import LabelPolicy, label_matches
from implant_desk.app.controllers.shortcuts import BY_ACTION, SHORTCUTS, clashes
from implant_desk.app.settings import Settings
from implant_desk.core.catalogue.store import ensure_lab_copy


def test_new_box_asks_then_single_class_mode_repeats_the_label():
    asked = []
    policy = LabelPolicy(["implant", "crown"])
    assert policy.label_for_new_box(lambda choices, proposed: asked.append(proposed) or "crown") == "crown"
    assert asked == ["implant"]
    policy.single_class = True
    assert policy.label_for_new_box(lambda *_: pytest.fail("single-class mode must not ask")) == "crown"


def test_default_label_mode_and_new_labels_are_appended():
    policy = LabelPolicy(["implant"], suggestions=["apical"])
    policy.use_default_label, policy.default_label = True, "fixture"
    assert policy.label_for_new_box(lambda *_: pytest.fail("must not ask")) == "fixture"
    assert policy.classes == ["implant", "fixture"]  # never reordered: YOLO ids stay stable
    assert policy.choices() == ["implant", "fixture", "apical"]


def test_cancelled_label_adds_no_box():
    assert LabelPolicy(["implant"]).label_for_new_box(lambda *_: None) is None


def test_shortcuts_have_no_clashes_and_keep_labelimg_keys():
    assert clashes() == {}
    assert BY_ACTION["undo"].keys == ("Ctrl+Z",) and BY_ACTION["redo"].keys == ("Ctrl+Shift+Z",)
    assert BY_ACTION["cycle_format"].keys == ("Ctrl+Y",)  # LabelImg's meaning, not redo
    labelimg = {"create_box": "W", "next_image": "D", "previous_image": "A", "delete_box": "Del", "save": "Ctrl+S",
                "duplicate_box": "Ctrl+D", "verify": "Space", "open_folder": "Ctrl+U", "change_save_dir": "Ctrl+R",
                "edit_label": "Ctrl+E", "edit_mode": "Ctrl+J", "hide_boxes": "Ctrl+H", "show_boxes": "Ctrl+A",
                "zoom_in": "Ctrl++", "zoom_out": "Ctrl+-", "zoom_original": "Ctrl+=", "fit_window": "Ctrl+F",
                "fit_width": "Ctrl+Shift+F", "copy_previous": "Ctrl+V"}
    for action, key in labelimg.items():
        assert key in BY_ACTION[action].keys, action
    assert len({s.action for s in SHORTCUTS}) == len(SHORTCUTS)


def test_settings_round_trip_and_survive_a_damaged_file():
    settings = Settings(last_folder="/data/xrays", save_format="yolo", single_class=True)
    assert settings.save()
    assert Settings.load() == settings
    Settings.path().write_text("{not json")
    assert Settings.load() == Settings()
    assert Settings.path().with_suffix(".damaged.json").exists()


def test_taxonomy_offers_systems_and_design_parts_and_a_lab_can_edit_it():
    shipped, problem = taxonomy.load_taxonomy()
    assert problem is None
    labels = shipped.labels()
    assert any(label.startswith("middle:") for label in labels) and any(label.startswith("apical:") for label in labels)
    system = shipped.systems[0]
    assert "thread" in shipped.describe(system.name)
    assert system.name in shipped.describe(system.part_label("coronal"))
    path = ensure_lab_copy()
    rows = path.read_text().splitlines()
    path.write_text("\n".join(rows + [rows[1].replace(system.name, "lab-system-x", 1)]) + "\n")
    lab, problem = taxonomy.load_taxonomy()
    assert problem is None and "lab-system-x" in lab.labels()
    path.write_text("name\nbroken\n")
    fallback, problem = taxonomy.load_taxonomy()
    assert problem and "built-in" in problem and fallback.labels() == labels


def test_a_label_filter_finds_every_word_in_any_order():
    assert label_matches("tapered-V-bone-level-external-hex-flat-apex", "hex  TAPERED")
    assert label_matches("anything", "  ")
    assert not label_matches("tapered-V-bone-level", "hex tapered")


def test_the_taxonomy_sorts_part_labels_by_third_and_describes_every_attribute():
    shipped, _ = taxonomy.load_taxonomy()
    labels = shipped.labels()
    systems = [s.name for s in shipped.systems]
    assert labels[:len(systems)] == systems
    parts = labels[len(systems):]
    assert [label.split(":")[0] for label in parts] == sorted((label.split(":")[0] for label in parts),
                                                             key=["coronal", "middle", "apical"].index)
    apical = [label for label in parts if label.startswith("apical:")]
    assert apical == sorted(apical) and len(apical) == len(set(apical))
    assert "coronal:bone-level+no-microthreads+external-hex" in parts
    text = shipped.describe("tapered-V-bone-level-external-hex-flat-apex")
    assert text.startswith("Implant system tapered-V-bone-level-external-hex-flat-apex: tapered body, V thread")
    assert "external connection" in text and "oval apical hole" in text
