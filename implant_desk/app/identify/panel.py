"""The Identify dock: find the fixtures on the current image, name their systems, show why and how big.

Widgets and wiring only; what is shown and what "Accept" does is decided by ``IdentifyController``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox, QDockWidget, QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QProgressBar, QPushButton,
    QScrollArea, QSlider, QVBoxLayout, QWidget,
)

from implant_desk.app.canvas import Canvas, OverlayItem
from implant_desk.app.dialogs import ask
from implant_desk.app.identify.controller import (
    SELECTED_COLOR, UNCERTAIN_COLOR, IdentifyController, ModelInfo, claim_text,
)
from implant_desk.app.identify.worker import InferenceWorker, PredictorProvider, active_model_info
from implant_desk.app.widgets import horizontal_rule, open_with_system
from implant_desk.core.errors import ImplantDeskError
from implant_desk.core.reports.fixture_text import fixture_title
from implant_desk.core.wording import counted

if TYPE_CHECKING:
    from implant_desk.app.identify.folder_job import FolderJob, FolderReport
    from implant_desk.core.annotations.document import AnnotationDocument
    from implant_desk.core.models.predictor import FixturePrediction
    from implant_desk.core.imaging.radiograph import Radiograph

DEFAULT_OPACITY = 0.45
LIST_ROWS = 5
MIN_SCROLL_HEIGHT = 200  # the scrolling part; with the actions below it, the dock fits under two others at 800 px
WARNING_STYLE = "color: #b26a00;"


class IdentifyPanel(QDockWidget):
    resultShown = Signal()  # the current image's answer is in the panel (its heat maps may follow)

    def __init__(self, canvas: Canvas, current_document: Callable[[], AnnotationDocument | None],
                 provider: PredictorProvider | None = None, parent: QWidget | None = None,
                 current_image: Callable[[], Radiograph | None] | None = None):
        """``current_image``: the window's radiograph, followed by the panel (see ``_FollowImage``); without
        it, the owner calls :meth:`image_changed`."""
        super().__init__("Identify", parent)
        self.setObjectName("identify_panel")
        self.canvas = canvas
        self.current_document = current_document
        self.controller = IdentifyController()
        self.provider = provider or PredictorProvider()
        self.worker = InferenceWorker(self.provider, self)
        self.worker.modelReady.connect(self._model_ready)
        self.worker.finished.connect(self._result)
        self.worker.explained.connect(self._explained)
        self.worker.failed.connect(self._failure)
        self.folder_job: FolderJob | None = None
        self.last_report: FolderReport | None = None
        self._follower = _FollowImage(self, canvas, current_image) if current_image else None
        self._build()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._refresh()
        self._follow()

    # ---- public slots ----------------------------------------------------------------------------------------------
    def image_changed(self, radiograph: Radiograph | None) -> None:
        """Another image (or none) is shown: forget the previous result; identify it if the user asked for that."""
        self.controller.image_changed(radiograph)
        self.canvas.clear_overlay()
        self.message.clear()
        self._refresh()
        if radiograph is not None and self.on_open.isChecked():
            self.identify()

    def model_changed(self) -> None:
        """Another model version became active ("Use this model"): say which at once, drop what the old one found
        (an identification under way finishes with its model; its result is then stale) and identify again with
        the new one when this image had been identified."""
        again = self.controller.model_changed()
        self.canvas.clear_overlay()
        self.message.clear()
        try:
            self._show_model(active_model_info())
        except ImplantDeskError as error:  # the next identification says it too
            self.model_label.setText("The active model cannot be read")
            self.warning_label.setText(str(error))
        if again:
            self.identify()
        else:
            self._refresh()

    def preload(self) -> None:
        """Load the active model in the background now (the app was launched: an identification will come)."""
        self.worker.preload()

    def identify_in_view(self) -> None:
        """Bring the panel to the front and identify the current image."""
        self.show()
        self.raise_()
        self.identify()

    def identify(self) -> None:
        self._follow()
        request = self.controller.request()
        if request is None:
            return
        self.message.clear()
        self.worker.submit(request)
        self._refresh()

    def identify_folder(self, folder: Path | None = None) -> None:
        if self.folder_job is not None:
            return
        if folder is None:
            start = str(Path(self.controller.radiograph.path).parent) if self.controller.radiograph else ""
            folder = ask.folder(self, "Identify every radiograph in", start)
            if folder is None:
                return
        from implant_desk.app.identify.folder_job import FolderJob  # the report's code (numpy): not at start-up

        job = FolderJob(self.provider, folder, self.controller.threshold, self)
        job.progress.connect(self._folder_progress)
        job.finished.connect(self._folder_done)
        job.failed.connect(lambda why: self._folder_ended(f"Folder not identified: {why}", warn=True))
        job.cancelled.connect(lambda: self._folder_ended("Folder identification cancelled; no report written"))
        self.folder_job = job
        self.folder_progress.setRange(0, 0)  # busy until the first image count arrives
        self.folder_row.setVisible(True)
        self.folder_button.setEnabled(False)
        self.folder_status.setText(f"Identifying {folder.name}…")
        self.folder_status.setVisible(True)
        job.start()

    def cancel_folder(self) -> None:
        if self.folder_job is not None:
            self.folder_job.cancel()
            self.folder_status.setText("Cancelling after the current image…")

    def accept(self) -> None:
        self._follow()
        document = self.current_document()
        if document is None:
            return
        added = self.controller.accept(document)
        self.message.setText(f"Added {counted(added, 'box', 'boxes')} (one undo step)" if added
                             else "These predictions are already annotated")
        self._refresh()

    def shutdown(self) -> None:
        """Stop background work before the window goes (the application is quitting)."""
        if self.folder_job is not None:
            self.folder_job.cancel()
            self.folder_job.wait()
        self.worker.close()

    def _follow(self) -> None:
        if self._follower is not None:
            self._follower.sync()

    # ---- results from the threads ---------------------------------------------------------------------------------
    def _result(self, generation: int, fixtures: list[FixturePrediction], ms: float) -> None:
        self._follow()  # an image change not yet noticed makes this result stale
        if self.controller.deliver(generation, fixtures, ms):
            self._refresh()
            self.resultShown.emit()

    def _explained(self, generation: int, explanations: dict) -> None:
        self._follow()
        if self.controller.explained(generation, explanations):
            self._explain_corrections()  # a correction made while the answer's own maps were coming
            self._refresh()

    def _failure(self, generation: int, why: str) -> None:
        if self.controller.failed(generation):
            self.message.setText(why)
            self._refresh()

    def _model_ready(self, generation: int, info: ModelInfo) -> None:
        if generation == self.controller.generation:  # an older request may have run with the previous model
            self._show_model(info)

    def _show_model(self, info: ModelInfo) -> None:
        name = f"version {info.name}" if info.name.isdigit() else info.name
        runtime = f" ({info.runtime})" if info.runtime else ""
        where = f"on <b>{info.device.upper()}</b>{runtime}" if info.device else "(loads on first use)"
        self.model_label.setText(f"Model <b>{name}</b> {where}")
        self.warning_label.setText(info.warning)

    def _folder_progress(self, done: int, total: int, name: str) -> None:
        self.folder_progress.setRange(0, total)
        self.folder_progress.setValue(done)
        self.folder_status.setText(f"{done} of {total}: {name}" if name else "Writing the report…")

    def _folder_done(self, report: FolderReport) -> None:
        import html  # loaded with the report's code; its entity table is not worth a start-up import

        self.last_report = report
        unreadable = f", {report.unreadable} unreadable" if report.unreadable else ""
        self._folder_ended(f"{counted(report.images, 'image')}, {counted(report.fixtures, 'fixture')}{unreadable}. "
                           f"Report written to {html.escape(str(report.pdf_path.parent))}: "
                           f"<a href='{QUrl.fromLocalFile(str(report.pdf_path)).toString()}'>Open report</a>")

    def _open_report(self, url: str) -> None:
        self.message.setText(open_with_system(self, Path(QUrl(url).toLocalFile()), "the report"))
        self.message.setVisible(True)

    def _folder_ended(self, text: str, warn: bool = False) -> None:
        if self.folder_job is not None:
            self.folder_job.wait()
            self.folder_job.deleteLater()
        self.folder_job = None
        self.folder_row.setVisible(False)
        self.folder_button.setEnabled(True)
        self.folder_status.setStyleSheet(WARNING_STYLE if warn else "")
        self.folder_status.setText(text)

    # ---- user gestures ---------------------------------------------------------------------------------------------
    def _threshold_moved(self, percent: int) -> None:
        self.controller.set_threshold(percent / 100)
        self._refresh()

    def _row_selected(self, row: int) -> None:
        if row != self.controller.selected:
            self.controller.select(row)
            self._refresh()

    def _overlay_clicked(self, index: int) -> None:
        self.controller.select(index)
        self._refresh()

    def _attribute_set(self, attribute: str, value: str) -> None:
        self.controller.set_attribute(self.controller.selected, attribute, value)
        self._explain_corrections()
        self._refresh()

    def _attribute_reset(self, attribute: str) -> None:
        self.controller.reset_attribute(self.controller.selected, attribute)
        self._explain_corrections()
        self._refresh()

    def _explain_corrections(self) -> None:
        request = self.controller.explain_request()
        if request is not None:
            self.worker.explain(request)

    def _heat_toggled(self, on: bool) -> None:
        self.canvas.set_heatmaps_visible(on)
        self.opacity.setEnabled(on)

    # ---- showing the state ---------------------------------------------------------------------------------------
    def _refresh(self) -> None:
        controller = self.controller
        self.threshold_value.setText(f"{controller.threshold:.0%}")
        self.summary.setText(controller.summary())
        self.heat.setText("Heat map (loading…)" if controller.heat_maps_pending else "Heat map")
        self.message.setVisible(bool(self.message.text()))  # an empty line takes no room
        self.identify_button.setEnabled(controller.radiograph is not None and not controller.running)
        self._fill_list()
        self._show_selected()
        accepted = len(controller.accepted)
        self.accept_button.setEnabled(accepted > 0 and self.current_document() is not None)
        self.accept_button.setText(f"Accept {accepted} as annotation{'s' if accepted != 1 else ''}" if accepted
                                   else "Accept as annotations")
        self.canvas.set_overlay([OverlayItem(s.box, s.text, s.color, s.heatmap, s.parts, s.inferred)
                                 for s in controller.overlay()])

    def _fill_list(self) -> None:
        self.fixture_list.blockSignals(True)
        self.fixture_list.clear()
        for number, fixture in enumerate(self.controller.fixtures, 1):
            item = QListWidgetItem(f"{number}  {fixture_title(fixture)}")
            item.setToolTip(item.text())  # a long name is elided in the row
            if not fixture.identified:
                item.setForeground(QColor(UNCERTAIN_COLOR).darker(130))
            self.fixture_list.addItem(item)
        self.fixture_list.setCurrentRow(self.controller.selected)
        self.fixture_list.blockSignals(False)
        count = len(self.controller.fixtures)
        self.fixture_list.setVisible(count > 0)
        if count:  # as tall as its rows, up to LIST_ROWS; more scroll
            rows = min(count, LIST_ROWS) * self.fixture_list.sizeHintForRow(0)
            self.fixture_list.setFixedHeight(rows + 2 * self.fixture_list.frameWidth() + 2)

    def _show_selected(self) -> None:
        controller = self.controller
        index = controller.selected
        if not 0 <= index < len(controller.fixtures):
            if self.details is not None:
                self.details.setVisible(False)
            return
        from implant_desk.app.identify.design import candidate_views, design_views

        if self.details is None:
            self._build_details()
        self.details.setVisible(True)
        fixture = controller.fixtures[index]
        inferred = ", box from its parts" if fixture.inferred else ""
        self.details_title.setText(f"<b style='color:{SELECTED_COLOR}'>■</b> <b>Fixture {index + 1}</b> "
                                   f"(fixture score {fixture.score:.2f}{inferred})")
        self.details_title.setToolTip("No whole-fixture detection, or a weak one: its box (dotted on the image) "
                                      "is inferred from the thirds found" if fixture.inferred else "")
        self.bars.set_candidates(candidate_views(fixture))
        self.design.show_design(design_views(fixture), fixture.nameable)
        self.size_label.setText(controller.size_text(fixture))
        self.claim_label.setText(claim_text(fixture))

    # ---- construction -----------------------------------------------------------------------------------------------
    def _build(self) -> None:
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setSpacing(8)

        self.identify_button = QPushButton("Identify implants")
        self.identify_button.setToolTip("Find the fixtures on this image and name their systems (Ctrl+I)")
        self.identify_button.clicked.connect(self.identify)
        self.on_open = QCheckBox("Identify each image on open")
        self.summary = QLabel()
        self.summary.setStyleSheet("font-weight: 600;")
        self.summary.setWordWrap(True)  # long system names wrap instead of widening the dock
        self.message = QLabel()
        self.message.setWordWrap(True)
        for widget in (self.identify_button, self.on_open, self.summary, self.message):
            layout.addWidget(widget)

        self.model_label = QLabel("Model loads on first use")
        self.model_label.setWordWrap(True)
        self.warning_label = QLabel()
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet(WARNING_STYLE)
        layout.addWidget(self.model_label)
        layout.addWidget(self.warning_label)
        layout.addWidget(horizontal_rule())

        self.threshold = _slider(round(self.controller.threshold * 100))
        self.threshold.setToolTip("A system is claimed only at this confidence or above; the rest are 'uncertain'")
        self.threshold.valueChanged.connect(self._threshold_moved)
        self.threshold_value = QLabel()
        self.threshold_value.setMinimumWidth(34)
        layout.addLayout(_row(QLabel("Claim at"), self.threshold, self.threshold_value))

        self.heat = QCheckBox("Heat map")
        self.heat.setToolTip("Where the model looked when it named the system (Grad-CAM)")
        self.heat.setChecked(True)
        self.heat.toggled.connect(self._heat_toggled)
        self.opacity = _slider(round(DEFAULT_OPACITY * 100))
        self.opacity.setToolTip("Heat map opacity")
        self.opacity.valueChanged.connect(lambda value: self.canvas.set_heatmap_opacity(value / 100))
        self.canvas.set_heatmap_opacity(DEFAULT_OPACITY)
        self.canvas.set_heatmaps_visible(True)
        layout.addLayout(_row(self.heat, self.opacity))

        self.fixture_list = QListWidget()
        # Long names are elided (full in the tooltip and below): a horizontal scroll bar would hide the only row.
        self.fixture_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.fixture_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.fixture_list.setUniformItemSizes(True)
        self.fixture_list.currentRowChanged.connect(self._row_selected)
        self.canvas.overlayClicked.connect(self._overlay_clicked)
        layout.addWidget(self.fixture_list)

        self.details: QWidget | None = None  # the selected fixture's, built here with the first one shown
        self._details_layout = layout
        layout.addStretch(1)

        # The actions stay in view below the scrolling part, however short the dock.
        actions = QWidget()
        layout = QVBoxLayout(actions)
        layout.setContentsMargins(9, 4, 9, 9)
        self.accept_button = QPushButton()
        self.accept_button.setToolTip("Add the fixtures with a claimed system as boxes labelled with it, and "
                                      "implants whose system this model cannot name as 'implant' (uncertain ones "
                                      "are left out), with the thirds a design model found, labelled with their "
                                      "design; one undo step")
        self.accept_button.clicked.connect(self.accept)
        layout.addWidget(self.accept_button)
        layout.addWidget(horizontal_rule())

        self.folder_button = QPushButton("Identify folder…")
        self.folder_button.setToolTip("Identify every radiograph of a folder and write report.csv and report.pdf")
        self.folder_button.clicked.connect(lambda: self.identify_folder())
        self.folder_progress = QProgressBar()
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.cancel_folder)
        self.folder_row = QWidget()
        folder_row = QHBoxLayout(self.folder_row)
        folder_row.setContentsMargins(0, 0, 0, 0)
        folder_row.addWidget(self.folder_progress, 1)
        folder_row.addWidget(cancel)
        self.folder_row.setVisible(False)
        self.folder_status = QLabel()
        self.folder_status.setWordWrap(True)
        self.folder_status.setOpenExternalLinks(False)
        self.folder_status.setVisible(False)  # until a folder is identified: no empty line under the button
        self.folder_status.linkActivated.connect(self._open_report)
        for widget in (self.folder_button, self.folder_row, self.folder_status):
            layout.addWidget(widget)
        scroll = QScrollArea()  # a short dock scrolls instead of squeezing the candidate bars
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        scroll.setMinimumSize(body.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width(),
                              MIN_SCROLL_HEIGHT)
        panel = QWidget()
        column = QVBoxLayout(panel)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(scroll, 1)
        column.addWidget(actions)
        self.setWidget(panel)

    def _build_details(self) -> None:
        """The selected fixture's candidates and design, built when the first fixture is shown: neither they nor
        the catalogue code behind them are on screen before, so the window's first paint does not wait for them."""
        from implant_desk.app.identify.design_view import CandidateBars, DesignEditor

        self.details = QWidget()
        details = QVBoxLayout(self.details)
        details.setContentsMargins(0, 0, 0, 0)
        self.details_title, self.claim_label, self.size_label = QLabel(), QLabel(), QLabel()
        self.bars = CandidateBars()
        self.design = DesignEditor()
        self.design.attributeSet.connect(self._attribute_set)
        self.design.attributeReset.connect(self._attribute_reset)
        for widget in (self.details_title, self.claim_label, self.bars, self.size_label, self.design):
            details.addWidget(widget)
        for label in (self.details_title, self.claim_label, self.size_label):
            label.setWordWrap(True)  # as the summary's
        self._details_layout.insertWidget(self._details_layout.count() - 1, self.details)  # above the stretch


def _slider(value: int) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, 100)
    slider.setPageStep(5)
    slider.setValue(value)
    return slider


def _row(*widgets: QWidget) -> QHBoxLayout:
    row = QHBoxLayout()
    for widget in widgets:
        row.addWidget(widget, 1 if isinstance(widget, QSlider) else 0)
    return row


class _FollowImage(QObject):
    """Keeps the panel on the window's current image.

    The window has no image-changed signal, but it repaints the canvas after every image change (open, next,
    delete, a file that cannot be shown), so the panel compares the window's radiograph when the canvas paints
    (deferred out of the paint). Before a result is shown the panel checks again, so a stale result can never be
    painted even when no paint came in between."""

    def __init__(self, panel: IdentifyPanel, canvas: Canvas, current: Callable[[], Radiograph | None]):
        super().__init__(panel)
        self._panel, self._current = panel, current
        self._scheduled = False
        canvas.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Paint and not self._scheduled and self._changed():
            self._scheduled = True
            QTimer.singleShot(0, self.sync)
        return False

    def _changed(self) -> bool:
        return self._current() is not self._panel.controller.radiograph

    def sync(self) -> None:
        self._scheduled = False
        if self._changed():
            self._panel.image_changed(self._current())


def install_identify_panel(window, provider: PredictorProvider | None = None) -> IdentifyPanel:
    """Add the panel to the annotation window: a right-side dock, Tools > Identify implants (Ctrl+I) and
    Tools > Identify folder, following the window's current image and its annotation document.
    ``provider``: where the predictor comes from (default: the registry's active model, loaded on first use)."""
    panel = IdentifyPanel(window.canvas, lambda: window.session.document, provider, parent=window,
                          current_image=lambda: window.radiograph)
    window.add_panel(panel)
    identify = QAction("Identify implants", window)
    identify.setShortcut(QKeySequence("Ctrl+I"))
    identify.triggered.connect(panel.identify_in_view)
    folder = QAction("Identify folder…", window)
    folder.triggered.connect(lambda: panel.identify_folder())
    window.tools_menu().addActions([identify, folder])
    return panel
