"""The annotation window: wires the canvas, the docks and the controllers. Policy lives in ``controllers``."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMenu

from implant_desk.app.actions import build_actions
from implant_desk.app.canvas import Canvas
from implant_desk.app.controllers import display, editing
from implant_desk.app.controllers.label_doubts import LabelDoubts, doubt_text
from implant_desk.app.controllers.labels import LabelPolicy
from implant_desk.app.controllers.leaving import may_leave
from implant_desk.app.controllers.navigation import FileNavigator, scan_folder
from implant_desk.app.controllers.session import AnnotationSession
from implant_desk.app.dialogs import ask
from implant_desk.app.docks.box_list import BoxListDock
from implant_desk.app.docks.display_dock import DisplayDock
from implant_desk.app.docks.file_list import FileListDock
from implant_desk.app.docks.label_picker import LabelPickerDock
from implant_desk.app.finetune import install_finetune, may_close
from implant_desk.app.label_index import LabelIndexer
from implant_desk.app.prefetch import Prefetcher
from implant_desk.app.review import install_review
from implant_desk.app.review.controller import document_status
from implant_desk.app.settings import Settings
from implant_desk.app.widgets import open_with_system
from implant_desk.core.annotations.folder import UNREADABLE, annotation_folder
from implant_desk.core.annotations.model import Box
from implant_desk.core.annotations.store import AnnotationConflictError
from implant_desk.core.annotations.yolo import read_classes
from implant_desk.core.errors import ImplantDeskError
from implant_desk.core.imaging.loading import IMAGE_SUFFIXES
from implant_desk.core.imaging.radiograph import DisplayWindow, Radiograph
from implant_desk.core.wording import counted

ARROW_STEP_PX = 1.0
ARROW_FAST_STEP_PX = 10.0  # with Shift
RIGHT_DOCK_MIN_HEIGHT = 130  # Boxes and Labels by default: a few rows each; the Identify tab takes the rest
IMAGE_FILTER = f"Images ({' '.join('*' + suffix for suffix in IMAGE_SUFFIXES)});;All files (*)"


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings, loader: Callable[[Path], Radiograph]):
        super().__init__()
        self.setObjectName("annotation_window")
        self.setWindowTitle("implant_desk")
        self.settings = settings
        self.navigator = FileNavigator()
        self.session = AnnotationSession(settings.save_format, Path(settings.save_dir) if settings.save_dir else None)
        self.describe_label: Callable[[str], str] = lambda _label: ""  # set by load_taxonomy
        self.labels = LabelPolicy()
        self.labels.single_class = settings.single_class
        self.labels.use_default_label, self.labels.default_label = settings.use_default_label, settings.default_label
        self.radiograph: Radiograph | None = None
        self.prefetcher = Prefetcher(loader, parent=self)
        self.label_index = LabelIndexer(self)

        self.canvas = Canvas()
        self.setCentralWidget(self.canvas)
        self.files = FileListDock(self.navigator, self)
        self.boxes = BoxListDock(self)
        self.label_doubts = LabelDoubts()
        self._doubted: Mapping[int, float] = {}  # the open image's implant boxes to look at again
        self.label_picker = LabelPickerDock(self)
        self.display = DisplayDock(self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.files)
        for dock in (self.boxes, self.label_picker, self.display):
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self._build_status_bar()
        self.actions = build_actions(self, self._handlers())
        self.actions["auto_save"].setChecked(settings.auto_save)
        self.actions["single_class"].setChecked(settings.single_class)
        self._tools_menu: QMenu | None = None
        from implant_desk.app.identify import install_identify_panel  # the Identify dock; torch loads on first use

        self.identify_panel = install_identify_panel(self)
        install_finetune(self)  # Tools > Fine-tune…; its dialog and pyqtgraph load on first use
        self.review = install_review(self)  # Tools > Review: pre-annotate, review proposed boxes by keyboard
        self._bind_arrow_keys()
        self._connect()
        self._refresh_labels()
        self.label_picker.set_modes(settings.single_class, settings.use_default_label, settings.default_label)
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(max(5, settings.auto_save_interval_s) * 1000)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()
        self._restore_layout()
        self._show_document_state()

    # ---- places for later panels (identify, fine-tune) ---------------------------------------------------------
    def add_panel(self, dock: QDockWidget) -> None:
        """Add a panel to the right dock area, tabbed with the display controls."""
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.tabifyDockWidget(self.display, dock)

    def tools_menu(self) -> QMenu:
        """The Tools menu, created when the first tool registers."""
        if self._tools_menu is None:
            self._tools_menu = self.menuBar().addMenu("&Tools")
        return self._tools_menu

    def load_taxonomy(self) -> None:
        """Offer the implant systems and their design parts as labels. Called once the window is on screen:
        reading the table imports the synthetic package (OpenCV), which the first paint need not wait for."""
        from implant_desk.app.controllers.taxonomy import load_taxonomy

        taxonomy, problem = load_taxonomy()
        self.labels.suggestions = taxonomy.labels()
        self.describe_label = taxonomy.describe
        self._refresh_labels()
        if problem:
            self.statusBar().showMessage(problem, 10000)

    # ---- opening --------------------------------------------------------------------------------------------------
    def open_folder(self, folder: Path, select: Path | None = None) -> bool:
        if not self._leave_current():
            return False
        self.session.close()
        # The save folder the user chose (settings keep it), else the YOLO layout's labels/, else beside the images.
        chosen = Path(self.settings.save_dir) if self.settings.save_dir else None
        self.session.save_dir = annotation_folder(folder, chosen)
        self.navigator.set_items(scan_folder(Path(folder), self.session.save_dir))
        self.files.model.reset()
        self.files.set_labels([])
        self.label_index.start([item.path for item in self.navigator.items if item.has_annotation_file],
                               self.session.save_dir)
        self.settings.last_folder = str(folder)
        self.setWindowTitle(f"implant_desk - {folder}")
        first = self.navigator.index_of(Path(select)) if select else -1
        if first < 0 and self.settings.last_file:
            first = self.navigator.index_of(Path(self.settings.last_file))
        if self.navigator.items:
            self.show_image(max(first, 0))
        else:
            self._show_nothing(f"No images in {folder}")
        return True

    def open_path(self, path: Path) -> bool:
        """LabelImg's IMAGE_DIR_OR_FILE: a folder opens its first image, a file opens its folder at that file."""
        path = Path(path)
        return self.open_folder(path) if path.is_dir() else self.open_folder(path.parent, select=path)

    def load_classes(self, path: Path) -> None:
        try:
            self.labels.add_classes(read_classes(path))
        except (ImplantDeskError, OSError) as error:
            ask.error(self, "Classes file", f"{path} could not be read: {error}")
            return
        self.settings.class_file = str(path)
        self._refresh_labels()

    def set_save_dir(self, folder: Path | None) -> None:
        """Annotations go to ``folder`` from now on (None: next to the images); the current one is reloaded."""
        if not self._leave_current():
            return
        self.session.save_dir = folder
        self.settings.save_dir = str(folder) if folder else ""
        current = self.navigator.current_item
        self.session.close()
        if current is not None:  # statuses and labels now come from the new folder
            self.open_folder(current.path.parent, select=current.path)
        self.statusBar().showMessage(f"Annotations are saved in {folder or 'the image folder'}", 5000)

    def show_image(self, index: int) -> bool:
        if index == self.navigator.current or not 0 <= index < len(self.navigator.items):
            return False
        if not self._leave_current():
            return False
        self.navigator.current = index
        item = self.navigator.items[index]
        self.settings.last_file = str(item.path)
        result = self.prefetcher.get(item.path)
        if isinstance(result, ImplantDeskError):
            reason = getattr(result, "reason", str(result))
            self.navigator.update(index, status=UNREADABLE, problem=reason)
            self.files.model.item_changed(index)
            self.session.close()
            self._show_nothing(f"{item.path.name} cannot be shown:\n{reason}")
        else:
            self._show_radiograph(index, item.path, result)
        self.files.show_current(index)
        self.prefetcher.prefetch([self.navigator.items[i].path
                                  for i in (self.navigator.next_index(1), self.navigator.next_index(-1)) if i >= 0])
        return True

    def _show_radiograph(self, index: int, path: Path, radiograph: Radiograph) -> None:
        self.radiograph = radiograph
        self.cursor_label.clear()
        self.statusBar().clearMessage()
        self.display.setEnabled(True)
        self.canvas.set_radiograph(radiograph)
        self.canvas.set_spacing(radiograph.spacing_mm)
        self.display.set_range(*display.value_range(radiograph))
        self.display.set_window(radiograph.window)
        self.display.show_preset(display.FROM_FILE)
        self.display.set_toggles(radiograph.inverted, self.display.clahe.isChecked())  # CLAHE stays as chosen
        depth = radiograph.pixels.shape[2] if radiograph.is_color else 1
        self.session.open(path, radiograph.width, radiograph.height, depth)
        self.session.document.subscribe(lambda _document: self._show_document_state())
        labels = self.session.loaded_labels
        self.navigator.update(index, labels=frozenset(labels), problem=self.session.blocked_reason)
        if self.session.blocked_reason:
            self.statusBar().showMessage(self.session.blocked_reason)
        if any(label not in self.labels.classes for label in labels):
            self.labels.add_classes(labels)
            self._refresh_labels()
        self._show_document_state()
        self.canvas.fit_window()

    def _show_nothing(self, message: str) -> None:
        self.radiograph = None
        self.cursor_label.clear()
        self.statusBar().clearMessage()
        self.display.setEnabled(False)
        self.canvas.set_message(message)
        self._show_document_state()

    # ---- leaving, saving, quitting ---------------------------------------------------------------------------------
    def _leave_current(self) -> bool:
        """Before another image, folder or quitting: save per policy, or ask. False: stay where we are."""
        session = self.session
        return may_leave(session.dirty, self.actions["auto_save"].isChecked(),
                         session.image_path.name if session.image_path else "this image", self._try_save,
                         lambda: session.last_error, lambda question: ask.unsaved_changes(self, question))

    def _try_save(self, overwrite_changed: bool = False) -> bool:
        try:
            self.session.save(self.labels.classes, overwrite_changed)
        except ImplantDeskError:
            self._show_document_state()
            return False
        self._saved()
        return True

    def _saved(self) -> None:
        """The file is on disk: the list shows its new status and labels."""
        index, document = self.navigator.current, self.session.document
        self.navigator.update(index, status=document_status(document), labels=frozenset(b.label for b in document.boxes),
                              pending=len(document.pending_indices))
        self.files.model.item_changed(index)
        self.files.set_labels(self.navigator.known_labels())
        self._show_document_state()

    def save(self) -> None:
        if self.session.document is None:
            return
        try:
            self.session.save(self.labels.classes)
        except AnnotationConflictError as conflict:
            if ask.confirm(self, "Annotation changed on disk", f"{conflict}\n\nReplace it with what you see here?"):
                self._try_save(overwrite_changed=True)
        except ImplantDeskError as error:
            ask.error(self, "Not saved", f"{error}\n\nYour changes are kept in the window.")
            self._show_document_state()
        else:
            self._saved()

    def save_as(self) -> None:
        folder = ask.folder(self, "Save annotations in", str(self.session.save_dir or self.settings.last_folder))
        if folder is not None:
            self.session.save_dir = folder
            self.settings.save_dir = str(folder)
            self.save()

    def autosave(self) -> None:
        if not self.actions["auto_save"].isChecked():
            return
        if not self.session.dirty:
            return
        message = self.session.autosave(self.labels.classes)
        if message:
            ask.error(self, "Auto-save failed", message)
        if self.session.dirty:
            self._show_document_state()
        else:
            self._saved()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if not self._leave_current() or not may_close(self):  # unsaved work first: saving it is harmless
            event.ignore()
            return
        self.label_index.cancel()
        self.prefetcher.wait()
        self.label_index.wait()
        self.identify_panel.shutdown()
        self.settings.window_geometry = bytes(self.saveGeometry().toBase64()).decode()
        self.settings.window_state = bytes(self.saveState().toBase64()).decode()
        self.settings.save_format = self.session.save_format
        self.settings.save()
        event.accept()

    # ---- editing ---------------------------------------------------------------------------------------------------
    def _box_drawn(self, x1: float, y1: float, x2: float, y2: float) -> None:
        document = self.session.document
        self.canvas.set_mode("edit")  # as in LabelImg: one box per W
        if document is None:
            return
        label = self.labels.label_for_new_box(lambda choices, proposed: ask.label(self, choices, proposed))
        if label:
            document.add_box(Box(label, x1, y1, x2, y2))
            self._refresh_labels()
            self.canvas.set_selected(len(document.boxes) - 1)
        else:  # cancelled: the canvas drops its preview when given the boxes again
            self.canvas.set_boxes(document.boxes)

    def _box_changed(self, index: int, x1: float, y1: float, x2: float, y2: float) -> None:
        document = self.session.document
        if document is not None:
            document.update_box(index, editing.with_corners(document.boxes[index], x1, y1, x2, y2), "Move or resize box")

    def edit_label(self, index: int | None = None) -> None:
        document, index = self.session.document, self.canvas.selected() if index is None else index
        if document is None or not 0 <= index < len(document.boxes):
            return
        label = self.labels.relabel(document.boxes[index].label, lambda c, p: ask.label(self, c, p))
        if label:
            self._relabel(index, label)

    def _relabel(self, index: int, label: str) -> None:
        document = self.session.document
        if document is not None and 0 <= index < len(document.boxes):
            self.labels.remember(label)
            document.update_box(index, document.boxes[index].with_label(label), "Change label")
            self._refresh_labels()

    def _on_selected_box(self, edit: Callable[[int], None]) -> None:
        index = self.canvas.selected()
        if self.session.document is not None and 0 <= index < len(self.session.document.boxes):
            edit(index)

    def delete_box(self) -> None:
        self._on_selected_box(lambda i: self.session.document.remove_boxes([i]))

    def duplicate_box(self) -> None:
        self._on_selected_box(lambda i: editing.duplicate_box(self.session.document, i, *self._image_size()))

    def _set_difficult(self, index: int, difficult: bool) -> None:
        if self.session.document is not None:
            editing.set_difficult(self.session.document, index, difficult)

    def toggle_difficult(self) -> None:
        self._on_selected_box(lambda i: editing.set_difficult(
            self.session.document, i, not self.session.document.boxes[i].difficult))

    def move_selected(self, dx: float, dy: float) -> None:
        self._on_selected_box(lambda i: editing.move_box(self.session.document, i, dx, dy, *self._image_size()))

    def verify(self) -> None:
        if self.session.document is not None:
            self.session.document.set_verified(not self.session.document.verified)

    def copy_previous_boxes(self) -> None:
        previous = self.navigator.previous_in_folder()
        if self.session.document is None or previous is None:
            self.statusBar().showMessage("There is no previous image to copy boxes from", 4000)
            return
        width, height = self._image_size()
        depth = self.radiograph.pixels.shape[2] if self.radiograph.is_color else 1
        boxes = self.session.boxes_of(previous.path, int(width), int(height), depth)
        added = editing.paste_boxes(self.session.document, boxes, width, height)
        self.statusBar().showMessage(f"Copied {counted(added, 'box', 'boxes')} from {previous.path.name}", 4000)

    def undo(self) -> None:
        if self.session.document is not None:
            self.session.document.undo()

    def redo(self) -> None:
        if self.session.document is not None:
            self.session.document.redo()

    def delete_image(self) -> None:
        item = self.navigator.current_item
        if item is None or not ask.confirm(self, "Delete image",
                                            f"Move {item.path.name} to the trash?\nIts annotation file is kept."):
            return
        from send2trash import send2trash

        try:
            send2trash(str(item.path))
        except OSError as error:
            ask.error(self, "Delete image", f"{item.path} could not be moved to the trash: {error}")
            return
        if self.session.document is not None:
            self.session.document.mark_saved()  # the image is gone: nothing to save for it
        self.prefetcher.forget(item.path)
        index = self.navigator.current
        self.navigator.remove(index)
        self.files.model.reset()
        self.navigator.current, target = -1, min(index, len(self.navigator.items) - 1)
        if target >= 0:
            self.show_image(target)
        else:
            self.session.close()
            self._show_nothing("No images left in this folder")

    # ---- display ----------------------------------------------------------------------------------------------------
    def apply_window(self, window: DisplayWindow) -> None:
        self.canvas.set_window(window)
        self.display.set_window(window)

    def apply_preset(self, name: str) -> None:
        if self.radiograph is not None:
            self.apply_window(display.preset_window(name, self.radiograph))
            self.display.show_preset(name)

    def _cursor_moved(self, x: float, y: float) -> None:
        if self.radiograph is not None:
            self.cursor_label.setText(display.pixel_readout(self.radiograph, x, y))

    def _ruler_measured(self, x1: float, y1: float, x2: float, y2: float) -> None:
        spacing = self.radiograph.spacing_mm if self.radiograph else None
        self.statusBar().showMessage(display.ruler_text(x1, y1, x2, y2, spacing))

    # ---- keeping the widgets in step with the document ---------------------------------------------------------
    def _show_document_state(self) -> None:
        document = self.session.document
        boxes = document.boxes if document else ()
        self.canvas.set_boxes(boxes)
        self.review.show(document)
        self._doubted = self.label_doubts.doubted(boxes, self.radiograph)
        self.boxes.set_boxes(boxes, self.radiograph.spacing_mm if self.radiograph else None, self._doubted)
        self.boxes.set_selected(self.canvas.selected())
        has_document = document is not None
        for name in ("save", "save_as", "create_box", "edit_label", "duplicate_box", "delete_box",
                     "toggle_difficult", "copy_previous", "verify"):
            self.actions[name].setEnabled(has_document)
        self.actions["undo"].setEnabled(bool(document and document.can_undo))
        self.actions["redo"].setEnabled(bool(document and document.can_redo))
        self.actions["undo"].setText(f"Undo {document.undo_text}" if document and document.can_undo else "Undo")
        self.actions["redo"].setText(f"Redo {document.redo_text}" if document and document.can_redo else "Redo")
        self.actions["delete_image"].setEnabled(self.navigator.current_item is not None)
        self.format_label.setText(self.session.save_format.upper())
        self.saved_label.setText(self.session.state_text())
        name = self.session.image_path.name if self.session.image_path else ""
        self.setWindowTitle(f"implant_desk - {name}{' *' if document and document.dirty else ''}")

    def _refresh_labels(self) -> None:
        self.label_picker.set_labels(self.labels.choices(), self.describe_label)

    def _select_box(self, index: int) -> None:
        self.canvas.set_selected(index)
        self.boxes.set_selected(index)
        self._say_doubt(index)

    def _say_doubt(self, index: int) -> None:
        """A selected implant box with little metal along its middle: why the box list marks it."""
        if index in self._doubted:
            self.statusBar().showMessage(f"Box {index + 1}: {doubt_text(self._doubted[index])}")

    def _image_size(self) -> tuple[float, float]:
        return float(self.radiograph.width), float(self.radiograph.height)

    # ---- construction -----------------------------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        self.cursor_label, self.zoom_label, self.format_label, self.saved_label = QLabel(), QLabel(), QLabel(), QLabel()
        self.format_label.setToolTip("Save format (Ctrl+Y cycles VOC, YOLO, CreateML)")
        for label in (self.cursor_label, self.saved_label, self.format_label, self.zoom_label):
            self.statusBar().addPermanentWidget(label)

    def _handlers(self) -> dict[str, Callable[[], None]]:
        canvas = self.canvas
        return {
            "open_file": self._ask_open_file, "open_folder": self._ask_open_folder,
            "change_save_dir": self._ask_save_dir, "open_classes": self._ask_classes,
            "save": self.save, "save_as": self.save_as, "cycle_format": self.cycle_format,
            "auto_save": self._auto_save_toggled, "delete_image": self.delete_image, "quit": self.close,
            "undo": self.undo, "redo": self.redo,
            "create_box": lambda: canvas.set_mode("create"), "edit_mode": lambda: canvas.set_mode("edit"),
            "ruler": lambda: canvas.set_mode("ruler"), "edit_label": lambda: self.edit_label(),
            "duplicate_box": self.duplicate_box, "delete_box": self.delete_box,
            "toggle_difficult": self.toggle_difficult, "copy_previous": self.copy_previous_boxes,
            "verify": self.verify, "single_class": lambda: self._set_single_class(self.actions["single_class"].isChecked()),
            "edit_taxonomy": self._edit_taxonomy,
            "previous_image": lambda: self._step(-1), "next_image": lambda: self._step(1),
            "zoom_in": canvas.zoom_in, "zoom_out": canvas.zoom_out, "zoom_original": canvas.zoom_original,
            "fit_window": canvas.fit_window, "fit_width": canvas.fit_width,
            "hide_boxes": lambda: canvas.set_boxes_visible(False), "show_boxes": lambda: canvas.set_boxes_visible(True),
            "auto_window": lambda: self.apply_preset(display.AUTO),
            "invert": lambda: self._set_invert(not self.display.invert.isChecked()),
        }

    def _connect(self) -> None:
        canvas = self.canvas
        canvas.boxDrawn.connect(self._box_drawn)
        canvas.boxChanged.connect(self._box_changed)
        canvas.selectionChanged.connect(self.boxes.set_selected)
        canvas.selectionChanged.connect(self._say_doubt)
        canvas.boxDoubleClicked.connect(self.edit_label)
        canvas.cursorMoved.connect(self._cursor_moved)
        canvas.zoomChanged.connect(lambda zoom: self.zoom_label.setText(f"{zoom * 100:.0f}%"))
        canvas.windowChanged.connect(lambda c, w: self.display.set_window(DisplayWindow(c, w)))
        canvas.rulerMeasured.connect(self._ruler_measured)
        self.files.fileActivated.connect(self._file_chosen)
        self.files.filtersChanged.connect(self._filter_files)
        self.label_index.labelsFound.connect(self._labels_indexed)
        self.boxes.boxSelected.connect(self._select_box)
        self.boxes.difficultToggled.connect(self._set_difficult)
        self.boxes.editLabelRequested.connect(self.edit_label)
        self.label_picker.labelChosen.connect(lambda label: self._relabel(self.canvas.selected(), label))
        self.label_picker.singleClassToggled.connect(self._set_single_class)
        self.label_picker.defaultLabelChanged.connect(self._set_default_label)
        self.display.windowEdited.connect(self.canvas.set_window)
        self.display.presetChosen.connect(self.apply_preset)
        self.display.invertToggled.connect(self._set_invert)
        self.display.claheToggled.connect(self.canvas.set_clahe)

    def _bind_arrow_keys(self) -> None:
        """Arrow keys move the selected box only while the canvas has focus (lists keep their arrow keys)."""
        for key, dx, dy in (("Left", -1, 0), ("Right", 1, 0), ("Up", 0, -1), ("Down", 0, 1)):
            for prefix, step in (("", ARROW_STEP_PX), ("Shift+", ARROW_FAST_STEP_PX)):
                shortcut = QShortcut(QKeySequence(prefix + key), self.canvas)
                shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                shortcut.activated.connect(lambda dx=dx, dy=dy, step=step: self.move_selected(dx * step, dy * step))

    def _restore_layout(self) -> None:
        if self.settings.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(self.settings.window_geometry.encode()))
        else:
            self.resize(1280, 800)
        if self.settings.window_state:
            self.restoreState(QByteArray.fromBase64(self.settings.window_state.encode()))
        else:  # the Display / Identify tabs get the room: Identify's fixtures and candidates need it at 800 px
            self.resizeDocks([self.boxes, self.label_picker, self.display], [RIGHT_DOCK_MIN_HEIGHT] * 2 + [10_000],
                             Qt.Orientation.Vertical)

    # ---- small handlers ------------------------------------------------------------------------------------------
    def _step(self, step: int) -> None:
        index = self.navigator.next_index(step)
        if index >= 0:
            self.show_image(index)

    def _labels_indexed(self, found: dict[Path, frozenset[str]]) -> None:
        for path, labels in found.items():
            index = self.navigator.index_of(path)
            if index >= 0 and self.navigator.items[index].labels is None:  # what was opened or saved is newer
                self.navigator.update(index, labels=labels)
        self.files.set_labels(self.navigator.known_labels())
        if self.navigator.label_filter:
            self._filter_files(self.navigator.status_filter, self.navigator.label_filter)

    def _file_chosen(self, index: int) -> None:
        """The user moved the Files list: open that image; if the window stays (unsaved work, the user said
        stay), the list goes back to the image shown, after the view has finished its own move."""
        if not self.show_image(index) and index != self.navigator.current:
            QTimer.singleShot(0, lambda: self.files.show_current(self.navigator.current))

    def _filter_files(self, status: str, label: str) -> None:
        self.navigator.set_filters(status, label)
        self.files.model.reset()
        self.files.show_current(self.navigator.current)

    def cycle_format(self) -> None:
        fmt = self.session.cycle_format()
        self.settings.save_format = fmt
        self.statusBar().showMessage(f"Save format: {fmt.upper()}", 3000)
        self._show_document_state()

    def _auto_save_toggled(self) -> None:
        self.settings.auto_save = self.actions["auto_save"].isChecked()

    def _set_single_class(self, on: bool) -> None:
        self.labels.single_class = self.settings.single_class = on
        self.actions["single_class"].setChecked(on)
        self.label_picker.set_modes(on, self.labels.use_default_label, self.labels.default_label)

    def _set_default_label(self, use: bool, label: str) -> None:
        self.labels.use_default_label, self.labels.default_label = use, label
        self.settings.use_default_label, self.settings.default_label = use, label

    def _set_invert(self, invert: bool) -> None:
        self.canvas.set_invert(invert)
        self.display.set_toggles(invert, self.display.clahe.isChecked())

    def _edit_taxonomy(self) -> None:
        from implant_desk.core.catalogue.store import ensure_lab_copy

        try:
            path = ensure_lab_copy()
        except ImplantDeskError as error:
            ask.error(self, "Implant taxonomy", str(error))
            return
        opened = open_with_system(self, path, "the implant taxonomy")
        self.statusBar().showMessage(f"{opened}. Reopen the window to use your changes.", 15000)

    def _ask_open_file(self) -> None:
        path = ask.open_file(self, "Open image", self.settings.last_folder, IMAGE_FILTER)
        if path:
            self.open_path(path)

    def _ask_open_folder(self) -> None:
        folder = ask.folder(self, "Open folder", self.settings.last_folder)
        if folder:
            self.open_folder(folder)

    def _ask_save_dir(self) -> None:
        folder = ask.folder(self, "Save annotations in", str(self.session.save_dir or self.settings.last_folder))
        if folder:
            self.set_save_dir(folder)

    def _ask_classes(self) -> None:
        path = ask.open_file(self, "Classes file", self.settings.last_folder, "Text files (*.txt);;All files (*)")
        if path:
            self.load_classes(path)

