"""The design read in the Identify panel's policy, without widgets (issue 12): the attributes by zone, the ranked
candidates with where the model knows them from and which attributes agree, a user's correction, the parts on
the canvas and in the document. A model that names its systems only shows what it showed before."""

from __future__ import annotations

from dataclasses import replace

import pytest

from implant_desk.app.identify.controller import IdentifyController
from implant_desk.app.identify.design import ZONE_COLORS, candidate_views, design_views
from implant_desk.core.annotations.document import AnnotationDocument
from implant_desk.core.annotations.model import Box
from implant_desk.core.catalogue import load_systems
from implant_desk.core.catalogue.ranking import rank_systems

from identify_helpers import DESIGN_TARGET, design_fixture, fixtures_for, make_radiograph

CATALOGUE = load_systems()
TARGET = CATALOGUE[DESIGN_TARGET].name  # never trained on
TRAINED_V = CATALOGUE[0].name  # tapered-V-bone-level: trained; square thread and round hole would read as it


def delivered(fixtures, threshold: float = 0.5) -> IdentifyController:
    controller = IdentifyController(threshold)
    controller.image_changed(make_radiograph(generated=True))
    request = controller.request()
    assert controller.deliver(request.generation, fixtures, 9.0)
    return controller


def test_the_design_read_is_shown_by_zone_with_each_value_and_its_confidence():
    zones = design_views(delivered([design_fixture()]).fixtures[0])
    assert [zone.zone for zone in zones] == ["coronal", "middle", "apical"]
    assert [zone.color for zone in zones] == [ZONE_COLORS[name] for name in ("coronal", "middle", "apical")]
    assert [view.attribute for view in zones[2].attributes] == ["apex", "apical_hole", "apical_groove"]
    apex = zones[2].attributes[0]
    assert (apex.title, apex.value, apex.probability, apex.set_by_user) == ("apex", "round", 0.55, False)
    assert dict(apex.values) == {"round": 0.55, "pointed": 0.35, "flat": 0.1}
    assert zones[0].attributes[0].title == "level"  # the coronal attribute: bone or tissue level


def test_candidates_say_where_the_model_knows_them_from_and_which_attributes_agree():
    first, second, _ = candidate_views(delivered([design_fixture()]).fixtures[0])
    assert (first.system, first.from_catalogue) == (TARGET, True)
    assert first.text == f"{TARGET} {first.probability:.0%} (catalogue only)"
    assert first.agreement == "differs: apex (read round, catalogue pointed); agrees on the other 8"
    assert first.agreeing == "agrees: level, microthreads, connection, body, thread, pitch, apical hole, groove"
    assert (second.system, second.from_catalogue) == (TRAINED_V, False) and "(catalogue only)" not in second.text
    assert "thread (read square, catalogue V)" in second.agreement


def test_a_correction_ranks_again_at_once_shows_as_set_by_the_user_and_can_be_reset():
    controller = delivered([design_fixture()])
    before = controller.fixtures[0].confidence
    controller.set_attribute(0, "apex", "pointed")
    fixture = controller.fixtures[0]
    assert fixture.system == TARGET and fixture.confidence > before
    apex = design_views(fixture)[2].attributes[0]
    assert (apex.value, apex.probability, apex.set_by_user) == ("pointed", 0.35, True)  # the model's own figure
    assert candidate_views(fixture)[0].agreement == "agrees on all 9 attributes read"

    controller.set_attribute(0, "thread", "V")
    controller.set_attribute(0, "apical_hole", "none")  # what the dentist sees: the trained system's design
    fixture = controller.fixtures[0]
    assert fixture.system == TRAINED_V and not candidate_views(fixture)[0].from_catalogue
    assert "apex (set pointed, catalogue round)" in candidate_views(fixture)[0].agreement

    for attribute in ("thread", "apical_hole", "apex"):
        controller.reset_attribute(0, attribute)
    assert controller.fixtures == delivered([design_fixture()]).fixtures
    assert not any(view.set_by_user for zone in design_views(controller.fixtures[0]) for view in zone.attributes)


def test_a_heat_map_explains_the_candidate_first_after_a_correction_and_is_kept_for_undo():
    controller = delivered([design_fixture()])
    explanation = fixtures_for(0.5)[0].explanation  # a map over the fixture's box
    assert controller.explained(controller.generation, {0: replace(explanation, subject=TARGET)})
    assert controller.overlay()[0].heatmap is not None and controller.explain_request() is None

    controller.set_attribute(0, "thread", "V")
    controller.set_attribute(0, "apical_hole", "none")  # the trained system comes first: TARGET's map is wrong
    assert controller.fixtures[0].system == TRAINED_V
    assert controller.overlay()[0].heatmap is None and not controller.heat_maps_pending
    request = controller.explain_request()
    assert list(request.fixtures) == [0] and request.fixtures[0].candidates[0][0] == TRAINED_V
    assert controller.heat_maps_pending and controller.explain_request() is None  # asked once
    assert controller.explained(request.generation, {0: replace(explanation, subject=TRAINED_V)})
    assert controller.overlay()[0].heatmap is not None and not controller.heat_maps_pending

    for attribute in ("thread", "apical_hole"):
        controller.reset_attribute(0, attribute)  # back to TARGET: its map is still there, nothing to compute
    assert controller.fixtures[0].explanation.subject == TARGET and controller.explain_request() is None
    controller.set_attribute(0, "thread", "V")
    controller.set_attribute(0, "apical_hole", "none")
    assert controller.fixtures[0].explanation.subject == TRAINED_V and controller.explain_request() is None


def test_no_map_is_asked_for_while_the_answers_own_maps_are_coming_or_for_another_result():
    controller = delivered([design_fixture()])
    assert controller.heat_maps_pending  # the answer came without its maps: they follow
    controller.set_attribute(0, "thread", "V")
    controller.set_attribute(0, "apical_hole", "none")
    assert controller.explain_request() is None
    explanation = fixtures_for(0.5)[0].explanation  # a map over the fixture's box
    assert controller.explained(controller.generation, {0: replace(explanation, subject=TARGET)})
    request = controller.explain_request()  # the map the correction needs, once the answer's own has come
    assert request.fixtures[0].candidates[0][0] == TRAINED_V
    controller.request()  # identified again: the request's maps are another result's
    assert not controller.explained(request.generation, {0: replace(explanation, subject=TRAINED_V)})



def test_corrections_stay_through_a_new_threshold_and_go_with_the_result():
    controller = delivered([design_fixture(), design_fixture()])
    controller.set_attribute(1, "apex", "flat")
    controller.set_threshold(0.2)
    assert controller.fixtures[1].ranking.readings.set_by_user == {"apex"}
    assert not controller.fixtures[0].ranking.readings.set_by_user  # one fixture's correction is its own
    controller.set_threshold(0.999)
    assert controller.fixtures[1].uncertain  # the threshold applies to the corrected ranking
    request = controller.request()
    assert controller.deliver(request.generation, [design_fixture()], 5.0)
    assert not controller.fixtures[0].ranking.readings.set_by_user
    controller.set_attribute(0, "apex", "flat")
    controller.image_changed(make_radiograph("next.png"))
    assert controller.fixtures == () and controller.request() is not None


def test_a_model_that_reads_no_design_offers_nothing_to_correct_and_shows_its_candidates_as_before():
    controller = delivered(fixtures_for(0.5))
    fixture = controller.fixtures[0]
    assert design_views(fixture) == ()
    assert [(c.text, c.from_catalogue, c.agreement) for c in candidate_views(fixture)] == [
        ("Alpha BL 80%", False, ""), ("Beta TX 15%", False, ""), ("Gamma Cone 5%", False, "")]
    with pytest.raises(ValueError, match="does not read the design"):
        controller.set_attribute(0, "apex", "flat")
    assert controller.fixtures[0] == fixture  # nothing changed
    assert [(spec.parts, spec.inferred) for spec in controller.overlay()] == [((), False), ((), False)]


def test_a_value_the_attribute_lacks_is_refused_and_changes_nothing():
    controller = delivered([design_fixture()])
    with pytest.raises(ValueError, match="no value"):
        controller.set_attribute(0, "apex", "square")
    assert controller.fixtures == delivered([design_fixture()]).fixtures


def test_the_overlay_draws_the_thirds_in_their_zone_colours_and_says_which_box_comes_from_parts():
    controller = delivered([design_fixture(), design_fixture(inferred=True, box=(200.0, 50.0, 228.0, 180.0))])
    first, second = controller.overlay()
    assert [color for _, color in first.parts] == [ZONE_COLORS[name] for name in ("coronal", "middle", "apical")]
    assert first.parts[0][0] == controller.fixtures[0].parts[0].box
    assert (first.inferred, second.inferred) == (False, True)


def test_on_a_real_film_the_design_is_read_but_no_candidate_is_offered():
    fixture = replace(design_fixture(), nameable=False)
    controller = delivered([fixture])
    assert candidate_views(controller.fixtures[0]) == () and design_views(controller.fixtures[0])


def test_accept_writes_the_parts_with_the_design_in_force_in_the_same_undo_step():
    controller = delivered([design_fixture()])
    controller.set_attribute(0, "apex", "pointed")
    document = AnnotationDocument([Box("tooth", 0, 0, 10, 10)])
    assert controller.accept(document) == 4
    labels = [box.label for box in document.boxes]
    assert labels == ["tooth", TARGET, "coronal:bone-level+microthreads", "middle:tapered+square+pitch-regular",
                      "apical:groove+hole-round+apex-pointed"]  # the user's apex, not the round one read
    assert labels[2:] == [CATALOGUE[DESIGN_TARGET].part_label(part) for part in ("coronal", "middle", "apical")]
    assert [b.ymin for b in document.boxes[2:]] == [part.box[1] for part in controller.fixtures[0].parts]
    assert controller.accept(document) == 0  # all there already
    document.undo()
    assert [box.label for box in document.boxes] == ["tooth"]


def test_a_third_whose_design_the_model_does_not_all_read_is_written_with_its_zone_alone():
    fixture = design_fixture()
    read = {name: values for name, values in fixture.attributes.items() if name != "thread"}
    fixture = replace(fixture, attributes=read, ranking=rank_systems(read, CATALOGUE, direct=fixture.direct))
    document = AnnotationDocument()
    delivered([fixture]).accept(document)
    assert [box.label for box in document.boxes][1:] == [
        "coronal:bone-level+microthreads", "middle", "apical:groove+hole-round+apex-round"]
