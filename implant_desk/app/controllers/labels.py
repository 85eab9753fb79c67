"""Which label a new box gets, and the class list: LabelImg's single-class and default-label modes.

``classes`` is what YOLO numbers and what ``classes.txt`` holds: the classes file in its order, then labels met
in annotations or typed by the user, appended (never reordered, so YOLO ids stay stable). ``choices`` adds
the implant taxonomy's labels as suggestions.
"""

from __future__ import annotations

from typing import Callable, Iterable

# (choices, proposed label) -> the label the user picked, or None when cancelled
AskLabel = Callable[[list[str], str], "str | None"]


class LabelPolicy:
    def __init__(self, classes: Iterable[str] = (), suggestions: Iterable[str] = ()):
        self.classes: list[str] = []
        self.suggestions: list[str] = list(dict.fromkeys(suggestions))
        self.single_class = False
        self.use_default_label = False
        self.default_label = ""
        self.last_label = ""
        self.add_classes(classes)

    def add_classes(self, labels: Iterable[str]) -> None:
        for label in labels:
            label = label.strip()
            if label and label not in self.classes:
                self.classes.append(label)

    def choices(self) -> list[str]:
        return self.classes + [s for s in self.suggestions if s not in self.classes]

    def label_for_new_box(self, ask: AskLabel) -> str | None:
        """LabelImg's order: single-class mode repeats the last label, default-label mode uses the default,
        otherwise the user is asked (with the last label proposed)."""
        if self.single_class and self.last_label:
            label: str | None = self.last_label
        elif self.use_default_label and self.default_label.strip():
            label = self.default_label.strip()
        else:
            label = ask(self.choices(), self.last_label or (self.classes[0] if self.classes else ""))
        label = label.strip() if label else None
        if label:
            self.remember(label)
        return label

    def relabel(self, current: str, ask: AskLabel) -> str | None:
        label = ask(self.choices(), current)
        label = label.strip() if label else None
        if label:
            self.remember(label)
        return label

    def remember(self, label: str) -> None:
        self.add_classes([label])
        self.last_label = label


def label_matches(label: str, query: str) -> bool:
    """Whether a label is shown for what was typed in a label filter: every word of it, in any order, ignoring
    case ("hex tapered" finds tapered-V-bone-level-external-hex-flat-apex; "apical oval" the apical parts with an
    oval hole)."""
    text = label.lower()
    return all(word in text for word in query.lower().split())
