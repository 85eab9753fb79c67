"""Zoom, fit and hit-testing arithmetic of the canvas (no widget needed)."""

from __future__ import annotations

import pytest

from implant_desk.app.canvas.interaction import MOVE, box_part_at, dragged_rect, pick_box
from implant_desk.app.canvas.view import MAX_ZOOM, ViewGeometry, clamp_zoom


def test_screen_and_image_coordinates_round_trip_with_zoom_and_scroll():
    g = ViewGeometry(image_width=1000, image_height=800, viewport_width=400, viewport_height=300, zoom=2.0,
                     scroll_x=150, scroll_y=60)  # fmt: skip
    assert g.to_image(50, 40) == (100.0, 50.0)
    assert g.to_screen(100.0, 50.0) == (50.0, 40.0)
    assert g.to_image(*g.to_screen(12.25, 7.5)) == pytest.approx((12.25, 7.5))


def test_an_image_smaller_than_the_viewport_is_centred():
    g = ViewGeometry(image_width=200, image_height=100, viewport_width=800, viewport_height=600, zoom=1.0)
    assert (g.margin_x, g.margin_y) == (300.0, 250.0)
    assert g.to_image(300, 250) == (0.0, 0.0)


def test_fit_window_keeps_the_whole_image_and_fit_width_fills_the_width():
    g = ViewGeometry(image_width=2400, image_height=3200, viewport_width=800, viewport_height=600)
    assert g.fit_window_zoom() == pytest.approx(600 / 3200)
    assert g.fit_width_zoom() == pytest.approx(800 / 2400)
    # the fitted height overflows, so the width leaves room for the vertical scroll bar
    assert g.fit_width_zoom(scrollbar_extent=16) == pytest.approx(784 / 2400)
    assert clamp_zoom(1e6) == MAX_ZOOM


def test_corners_edges_and_inside_of_a_box_are_told_apart_in_screen_pixels():
    g = ViewGeometry(image_width=100, image_height=100, viewport_width=400, viewport_height=400, zoom=4.0)
    rect = (10.0, 10.0, 50.0, 30.0)  # screen (40, 40) .. (200, 120)
    assert box_part_at(rect, g, 41, 39) == "top-left"
    assert box_part_at(rect, g, 203, 118) == "bottom-right"
    assert box_part_at(rect, g, 120, 42) == "top"
    assert box_part_at(rect, g, 37, 80) == "left"
    assert box_part_at(rect, g, 120, 80) == MOVE
    assert box_part_at(rect, g, 300, 80) is None


def test_pick_prefers_the_selected_box_then_the_smallest():
    g = ViewGeometry(image_width=100, image_height=100, viewport_width=100, viewport_height=100)
    outer, inner = (0.0, 0.0, 90.0, 90.0), (30.0, 30.0, 60.0, 60.0)
    assert pick_box([outer, inner], g, 45, 45) == (1, MOVE)
    assert pick_box([outer, inner], g, 45, 45, selected=0) == (0, MOVE)
    assert pick_box([outer, inner], g, 97, 50) == (-1, None)


def test_a_move_stops_at_the_image_border_and_a_resize_may_cross_over():
    assert dragged_rect((10, 10, 30, 20), MOVE, -50, 5, 100, 100) == (0, 15, 20, 25)
    assert dragged_rect((10, 10, 30, 20), "bottom-right", 500, 5, 100, 100) == (10, 10, 100, 25)
    assert dragged_rect((10, 10, 30, 20), "left", 30, 0, 100, 100) == (30, 10, 40, 20)
