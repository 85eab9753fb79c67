"""The review keys' policy without a display (issue 13)."""

from __future__ import annotations

from implant_desk.app.review.controller import ReviewController, document_status
from implant_desk.core.annotations.document import AnnotationDocument
from implant_desk.core.annotations.folder import ANNOTATED, PROPOSED, VERIFIED
from review_helpers import two_proposals


def test_next_proposal_cycles_over_the_pending_ones_and_the_keys_act_on_it():
    document = AnnotationDocument(proposals=two_proposals().proposals)
    review = ReviewController()
    assert review.target(document) == 0
    assert review.next_proposal(document) == 1 and review.next_proposal(document) == 0
    review.next_proposal(document)
    assert review.keys_text(document).startswith("Y accept implant · X reject")
    assert "1: B 40%  2: A 35%" in review.keys_text(document)
    assert review.relabel(document, 3) == "This proposal has 2 candidate system(s); press 1 to 2"
    assert review.relabel(document, 1) == "Accepted as B" and document.boxes[0].label == "B"
    assert review.target(document) == 0  # the decided one is no longer current
    views, current = review.views(document)
    assert len(views) == 1 and current == 0 and views[0].text.startswith("A 80% (fixture 0.90, model 7)")
    assert review.reject(document) == "Rejected the proposed box"
    assert review.accept(document) == "No proposed box is waiting on this image"
    assert review.views(document) == ([], -1)


def test_document_status_after_a_save():
    assert document_status(AnnotationDocument()) == ANNOTATED
    assert document_status(AnnotationDocument(proposals=two_proposals().proposals)) == PROPOSED
    assert document_status(AnnotationDocument(verified=True, proposals=two_proposals().proposals)) == VERIFIED
