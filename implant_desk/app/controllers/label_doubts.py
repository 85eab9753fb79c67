"""Which implant boxes of the open image show little metal along their middle (``core.learning.label_audit``):
the box list marks them so that an annotator looks again before they teach a model that a root-filled tooth is
an implant. Qt-free."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from implant_desk.core.annotations.model import Box
from implant_desk.core.imaging.radiograph import Radiograph


class LabelDoubts:
    """Checks the boxes of one radiograph after another; the 8-bit image and its metal level are worked out once
    per radiograph, not on every edit."""

    def __init__(self) -> None:
        self._radiograph: Radiograph | None = None
        self._image = None
        self._level = 0.0

    def doubted(self, boxes: Sequence[Box], radiograph: Radiograph | None) -> Mapping[int, float]:
        """Box index -> metal share, for the boxes labelled as an implant without a system (``Implant``,
        ``fixture``...) and not marked difficult whose middle third holds less metal than the audit's floor."""
        if radiograph is None or not boxes:
            return {}
        from implant_desk.core.learning.labels import IMPLANT, LabelRoles

        roles = LabelRoles()
        checked = [i for i, box in enumerate(boxes) if not box.difficult and roles.role(box.label) == IMPLANT]
        if not checked:
            return {}
        from implant_desk.core.learning.label_audit import low_metal, metal_level

        if radiograph is not self._radiograph:
            from implant_desk.core.models.preprocess import grey8

            self._image = grey8(radiograph)
            self._radiograph, self._level = radiograph, metal_level(self._image)
        corners = {i: (boxes[i].xmin, boxes[i].ymin, boxes[i].xmax, boxes[i].ymax) for i in checked}
        return low_metal(self._image, corners, level=self._level)


def doubt_text(share: float) -> str:
    return (f"Only {share:.0%} metal along its middle third: a root-filled tooth, post or crown? Look again; mark it "
            "difficult when unsure (training and scoring then leave it out), or delete it.")
