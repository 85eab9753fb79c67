"""The Identify panel's policy, without widgets: threshold, stale results, accept, sizes, the card's warning."""

from __future__ import annotations

from dataclasses import replace

from implant_desk.app.identify.controller import (
    CLAIMED_COLOR, SELECTED_COLOR, UNCERTAIN_COLOR, IdentifyController, heat_over_box,
)
from implant_desk.core.annotations.document import AnnotationDocument
from implant_desk.core.annotations.model import Box
from implant_desk.core.models.card import GENERATED_WARNING, ModelCard, card_warning
from implant_desk.core.models.spec import ModelSpec

from identify_helpers import SYSTEMS, fixtures_for, make_radiograph


def identified(threshold: float = 0.5, spacing=(0.1, 0.1)) -> IdentifyController:
    controller = IdentifyController(threshold)
    controller.image_changed(make_radiograph(spacing=spacing))
    request = controller.request()
    assert controller.deliver(request.generation, fixtures_for(request.threshold), 12.0)
    return controller


def test_threshold_refilters_the_computed_fixtures():
    controller = identified(0.5)
    assert [f.uncertain for f in controller.fixtures] == [False, True]
    controller.set_threshold(0.3)
    assert [f.uncertain for f in controller.fixtures] == [False, False]
    assert [f.system for f in controller.fixtures] == ["Alpha BL", "Beta TX"]
    controller.set_threshold(0.9)
    assert [f.system for f in controller.fixtures] == [None, None]
    assert controller.summary() == "2 fixtures, 2 uncertain in 12 ms"


def test_a_result_for_a_previous_image_is_dropped():
    controller = IdentifyController()
    controller.image_changed(make_radiograph("first.png"))
    old = controller.request()
    controller.image_changed(make_radiograph("second.png"))
    assert not controller.deliver(old.generation, fixtures_for(0.5), 5.0)
    assert controller.fixtures == () and not controller.has_result
    assert controller.overlay() == []


def test_a_result_for_an_earlier_request_on_the_same_image_is_dropped():
    controller = IdentifyController()
    controller.image_changed(make_radiograph())
    first, second = controller.request(), controller.request()
    assert not controller.deliver(first.generation, [], 1.0)
    assert controller.running
    assert controller.deliver(second.generation, fixtures_for(0.5), 1.0)
    assert not controller.running and len(controller.fixtures) == 2


def test_the_heat_maps_follow_the_answer_and_a_late_one_for_another_image_is_dropped():
    controller = IdentifyController()
    controller.image_changed(make_radiograph())
    request = controller.request()
    explained = fixtures_for(0.5)
    assert controller.deliver(request.generation, [replace(f, explanation=None) for f in explained], 3.0)
    assert controller.heat_maps_pending and controller.overlay()[0].heatmap is None
    controller.select(1)
    assert controller.explained(request.generation, {0: explained[0].explanation})
    assert not controller.heat_maps_pending and controller.overlay()[0].heatmap is not None
    assert controller.selected == 1  # the user's choice stays
    controller.image_changed(make_radiograph("next.png"))
    assert not controller.explained(request.generation, {0: explained[0].explanation})
    assert not controller.heat_maps_pending


def test_a_new_active_model_drops_the_old_models_result_and_asks_for_another_run():
    controller = identified()
    assert controller.model_changed()  # a result was on screen: identify again with the new model
    assert not controller.has_result and controller.overlay() == []
    running = controller.request()
    assert controller.model_changed()  # still running with the old model: its result will be stale
    assert not controller.deliver(running.generation, fixtures_for(0.5), 1.0) and not controller.running
    fresh = IdentifyController()
    fresh.image_changed(make_radiograph())
    assert not fresh.model_changed()  # nothing identified yet: nothing to redo
    fresh.image_changed(None)
    assert not fresh.model_changed()


def test_no_request_without_an_image():
    controller = IdentifyController()
    controller.image_changed(None)
    assert controller.request() is None
    assert controller.summary() == "No image"


def test_accept_adds_the_claimed_fixtures_in_one_undo_step():
    controller = identified(0.5)
    document = AnnotationDocument([Box("tooth", 0, 0, 10, 10)])
    assert controller.accept(document) == 1
    assert document.boxes[1] == Box("Alpha BL", 80.0, 60.0, 110.0, 200.0)
    assert document.undo_text == "Accept predictions"
    controller.set_threshold(0.3)
    assert controller.accept(document) == 1  # only the newly claimed one: Alpha BL is already there
    assert [b.label for b in document.boxes] == ["tooth", "Alpha BL", "Beta TX"]
    document.undo()
    document.undo()
    assert [b.label for b in document.boxes] == ["tooth"]


def test_accept_adds_nothing_when_everything_is_uncertain():
    controller = identified(0.95)
    document = AnnotationDocument()
    assert controller.accept(document) == 0
    assert not document.can_undo


def test_overlay_colours_say_claimed_uncertain_and_selected():
    controller = identified(0.5)
    controller.select(-1)
    texts = [(spec.text, spec.color) for spec in controller.overlay()]
    assert texts == [("1 Alpha BL 80%", CLAIMED_COLOR), ("2 uncertain (best: Beta TX 40%)", UNCERTAIN_COLOR)]
    controller.select(1)
    assert controller.overlay()[1].color == SELECTED_COLOR


def test_heat_map_is_cut_to_the_fixture_box():
    fixture = fixtures_for(0.5)[0]  # heat covers the region (77.6..112.4, 48.8..211.2) at 20x40
    heat = heat_over_box(fixture)
    assert heat.shape == (34, 18)  # rows 3..37 and columns 1..19 of the map lie over the box
    assert heat.max() == 1.0
    assert heat_over_box(fixtures_for(0.5)[1]) is None  # no explanation computed


def test_sizes_in_mm_or_spacing_unknown():
    controller = identified()
    assert controller.size_text(controller.fixtures[0]) == "length 14.0 mm, diameter 3.0 mm"
    unknown = identified(spacing=None)
    assert unknown.size_text(unknown.fixtures[0]) == "size: spacing unknown"


def test_warning_comes_from_the_card():
    spec = ModelSpec(classes=SYSTEMS)
    assert card_warning(ModelCard(spec=spec, training_data={"source": "generated radiographs"})) == GENERATED_WARNING
    lab = ModelCard(spec=spec, training_data={"images": 300}, intended_use="Research on lab X's archive.")
    assert card_warning(lab) == "Research on lab X's archive."
    assert "not for diagnosis" in card_warning(None).lower()
    # The card as the registry reads it (JSON, before the model is loaded) gives the same words.
    assert card_warning(ModelCard.from_dict(lab.to_dict())) == "Research on lab X's archive."
    assert card_warning(ModelCard(spec=spec, notes=["Trained only on generated radiographs."])) == GENERATED_WARNING


def test_on_a_real_film_implants_are_found_but_no_generated_design_is_named():
    from implant_desk.app.identify.controller import claim_text
    from implant_desk.core.models.predictor import IMPLANT_LABEL
    from implant_desk.core.reports.fixture_text import fixture_title

    controller = IdentifyController(0.5)
    controller.image_changed(make_radiograph())
    request = controller.request()
    unnamed = [replace(f, nameable=False) for f in fixtures_for(request.threshold)]
    assert controller.deliver(request.generation, unnamed, 12.0)
    assert controller.claimed == [] and [f.system for f in controller.fixtures] == [None, None]
    assert controller.summary() == "2 fixtures; 2 not identified by this model in 12 ms"
    assert fixture_title(controller.fixtures[0]) == "implant (system not identified)"
    assert "system not identified by this model" in claim_text(controller.fixtures[0])
    controller.select(-1)
    assert [o.color for o in controller.overlay()] == [UNCERTAIN_COLOR, UNCERTAIN_COLOR]
    assert [b.label for b in controller.boxes_to_accept([Box("other", 0, 0, 1, 1)])] == [IMPLANT_LABEL, IMPLANT_LABEL]


def test_the_warning_says_what_the_model_found_on_real_films_and_that_it_names_no_generated_design():
    spec = ModelSpec(classes=("a",))
    real = {"ap50": 0.8123, "false_per_image": 0.15, "images": 215}
    card = ModelCard(spec=spec, metrics={"top1": 0.99, "real_films": real})
    assert card_warning(card) == ("Finds implants on real films (AP50 0.81, 0.15 false finds per image on 215 held-out "
                                  "real images); it learnt its systems from generated images and does not name them "
                                  "on a real film. Not for diagnosis.")
    design = replace(card, spec=ModelSpec.reading_design(("a",), {"apex": ("round", "flat")}))
    assert "learnt its systems and their design from generated images and does not name them on a real film, where " \
           "the design it reads is unchecked. Not for diagnosis." in card_warning(design)
    lab = ModelCard(spec=spec, metrics={**real, "split": "test"},
                    training_data={"splits": {"test": {"images": 9, "real_images": 9}},
                                   "real_fixtures_per_system": {"a": 30}})
    assert card_warning(lab).startswith("Finds implants on real films (AP50 0.81") and "generated" not in card_warning(lab)
    # Figures against labels checked box by box come first: noisy labels credit finds on teeth labelled implant.
    checked = ModelCard(spec=spec, metrics={"real_films": real, "real_films_audited": {
        "ap50": 0.74, "false_per_image": 0.11, "images": 206, "truth": "an audit"}})
    assert card_warning(checked).startswith("Finds implants on real films (AP50 0.74, 0.11 false finds per image on "
                                            "206 held-out real images, labels checked box by box); ")
