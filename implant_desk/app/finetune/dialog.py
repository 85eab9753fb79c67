"""Tools > Fine-tune: from the open folder's annotations to a new model version, in one click.

Page 1 says what will be trained on (and what is wrong with it) before anything starts; the settings a
small lab rarely needs are folded away. Page 2 shows the live curves while a child process trains, then the
honest figures on held-out patients and the choice to use the new version. The dialog builds widgets and
shows what ``session`` (states, progress, buttons) and ``controller`` (texts and tables) say.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from implant_desk.app.dialogs import ask
from implant_desk.app.finetune import controller
from implant_desk.app.finetune.controller import FinetuneOptions, Plan
from implant_desk.app.finetune.runner import TrainingRunner
from implant_desk.app.finetune.session import CANCELLED, CANCELLING, FAILED, FINISHED, RUNNING, SETUP, FinetuneSession
from implant_desk.app.widgets import horizontal_rule
from implant_desk.core.errors import ImplantDeskError
from implant_desk.core.learning.events import DataRead, Failed, Finished, TrainingEvent
from implant_desk.core.registry import Registry

WARNING_STYLE = "background: #fff4d6; border: 1px solid #e0b84c; border-radius: 4px; padding: 6px;"
PROBLEM_STYLE = "background: #fde2e1; border: 1px solid #d9534f; border-radius: 4px; padding: 6px;"
MUTED_STYLE = "color: #5f6368;"
LOSS_PEN, EPOCH_PEN = pg.mkPen("#9fc5e8", width=1), pg.mkPen("#1f5fa8", width=2)
VAL_PENS = {"top1": pg.mkPen("#2e7d32", width=2), "ap50": pg.mkPen("#e07b00", width=2)}


class FinetuneDialog(QDialog):
    modelActivated = Signal(str)  # a version was made the active model
    _planReady = Signal(int, object)  # generation, Plan (from the reading thread)

    def __init__(self, folder: Path | None, parent: QWidget | None = None, options: FinetuneOptions | None = None,
                 runner: TrainingRunner | None = None, annotation_dir: Path | None = None):
        super().__init__(parent)
        self.setObjectName("finetune_dialog")
        self.setWindowTitle("Fine-tune the identification model")
        self.options = options or FinetuneOptions()
        self.runner = runner or TrainingRunner(self)
        self.runner.setParent(self)
        self.folder = Path(folder) if folder else None
        self.annotation_dir = annotation_dir  # the window's save folder, when annotations are not beside images
        self.session = FinetuneSession()
        self._start_when_read = False  # a background retrain waits for the folder to be read
        self._build()
        self.runner.progress.connect(self._on_progress)
        self.runner.ended.connect(self._on_ended)
        self._planReady.connect(self._show_plan)
        self.resize(940, 720)
        self.read_folder(self.folder, annotation_dir)

    # The session's, read here by the window and the tests.
    @property
    def state(self) -> str:
        return self.session.state

    @property
    def plan(self) -> Plan | None:
        return self.session.plan

    @property
    def final(self) -> TrainingEvent | None:
        return self.session.final

    # ---- page 1: what will be trained on ------------------------------------------------------------------------
    def read_folder(self, folder: Path | None, annotation_dir: Path | None = None) -> None:
        """Read the folder (its annotations in ``annotation_dir`` when given) on a worker thread (thousands of
        headers must not freeze the window)."""
        self.folder, self.annotation_dir = folder, annotation_dir
        generation = self.session.read_folder()
        self.folder_label.setText(str(folder) if folder else "No folder is open")
        self.annotations_label.setText(controller.annotations_text(annotation_dir))
        self.annotations_label.setVisible(folder is not None)
        self._show_plan_text("Reading the annotations…" if folder else
                             "Open a folder of annotated radiographs first (File > Open folder), or choose one here.")
        self._refresh_buttons()
        if folder is None:
            return
        threading.Thread(target=self._read_plan, args=(generation, folder, annotation_dir),
                         name="finetune-plan", daemon=True).start()

    def _read_plan(self, generation: int, folder: Path, annotation_dir: Path | None) -> None:
        """On the reading thread; the signal brings the plan to the GUI thread."""
        try:
            plan = controller.make_plan(folder, annotation_dir, self.options.implant_labels, self.options.only)
        except Exception as error:  # an unexpected failure must not leave the dialog "reading" forever
            plan = Plan(folder, problem=f"The folder could not be read ({type(error).__name__}: {error})")
        try:
            self._planReady.emit(generation, plan)
        except RuntimeError:  # the dialog was closed and deleted meanwhile: nobody is waiting
            pass

    def _show_plan(self, generation: int, plan: Plan) -> None:
        if not self.session.plan_read(generation, plan):
            return  # another folder was chosen meanwhile
        if self._start_when_read:
            self._start_when_read = False
            if plan.can_start:
                self.start()
                return
        if not plan.can_start:
            self._show_plan_text(plan.problem, problem=True)
        else:
            self.headline.setText(plan.describe.replace(", ", " · ", 3))
            self._fill_table(self.split_table, ("", "Images", "Fixtures", "Patients"),
                             [(name, str(i), str(f), str(p)) for name, i, f, p in plan.splits])
            _fit_to_contents(self.split_table)
            self.split_table.show()
            systems = "Fixtures per system: " + (", ".join(f"{s} {n}" for s, n in plan.systems) or "none named")
            self.systems_label.setText(f"{systems}. {plan.labels}" if plan.labels else systems)
            self.sources_label.setText(plan.sources)
            self.sources_label.show()
            self.systems_label.show()
            self.warnings_label.setText("<b>Before you start</b><ul style='margin:0'>"
                                        + "".join(f"<li>{_html(w)}</li>" for w in plan.warnings) + "</ul>")
            self.warnings_label.setStyleSheet(WARNING_STYLE)
            self.warnings_label.setVisible(bool(plan.warnings))
        self._refresh_buttons()

    def _show_plan_text(self, text: str, problem: bool = False) -> None:
        self.headline.setText("")
        self.split_table.hide()
        self.systems_label.hide()
        self.sources_label.hide()
        self.warnings_label.setText(_html(text))
        self.warnings_label.setStyleSheet(PROBLEM_STYLE if problem else "")
        self.warnings_label.show()

    def _choose_folder(self) -> None:
        folder = ask.folder(self, "Train on the annotations in", str(self.folder or ""))
        if folder:  # the window's save folder holds the annotations of the window's folder only
            self.read_folder(folder, self.annotation_dir if folder == self.folder else None)

    def _starting_model_text(self) -> str:
        active = Registry().active()
        if not self.start_from_active.isChecked() or active is None:
            return "Starts from ImageNet backbones (no model of yours to build on)." if active is None else \
                "Starts from ImageNet backbones, not from a model of yours."
        return f"Starts from version {active.version}, the active model; the result becomes a new version."

    # ---- running --------------------------------------------------------------------------------------------------
    def start(self) -> None:
        if not self.session.can_start or self.runner.running:
            return
        self._read_options()
        plan = self.session.plan
        self.runner.start(self.options.request(plan.folder, plan.annotation_dir))
        self.session.start()
        self.use_button.setText("Use this model")
        self.data_label.setText(f"Folder: {plan.folder}")
        self.results.hide()
        self.pages.setCurrentIndex(1)
        self._redraw()
        self._refresh_buttons()

    def cancel(self) -> None:
        if self.session.cancel():
            self.runner.cancel()
            self._redraw("")
            self._refresh_buttons()

    def stop_and_keep_best(self) -> None:
        if self.session.keep_best():
            self.runner.stop_and_keep_best()
            self._redraw("")
            self._refresh_buttons()

    def _on_progress(self, event: TrainingEvent) -> None:
        changed = self.session.apply(event)
        if isinstance(event, DataRead):
            self.data_label.setText("Training on " + event.describe.replace(", ", " · ", 3))
        self._redraw(changed)
        self._refresh_buttons()

    def _on_ended(self, final: TrainingEvent) -> None:
        self.session.end(final)
        self.status_label.setText(self.session.title)
        self.eta_label.setText("")
        self.outcome_label.setText(controller.outcome_text(final))
        self.outcome_label.setStyleSheet(PROBLEM_STYLE if self.state == FAILED else "")
        if isinstance(final, Failed) and final.detail:
            self.outcome_label.setToolTip(final.detail)
        if self.state == FINISHED:
            self.progress_bar.setValue(self.progress_bar.maximum())
            self._show_results(final)
        self.results.show()
        self.result_tabs.setVisible(self.state == FINISHED)
        # Without result tables (cancelled, failed) the outcome is a line of text: the plots keep the room.
        self.run_layout.setStretchFactor(self.results, 1 if self.state == FINISHED else 0)
        self._refresh_buttons()

    def use_model(self) -> None:
        if not isinstance(self.final, Finished):
            return
        try:
            version = Registry().activate(self.final.version).version
        except ImplantDeskError as error:  # e.g. the version was deleted from the command line meanwhile
            ask.error(self, "Use this model", str(error))
            return
        self.session.model_activated()
        self.use_button.setText(f"Version {version} is in use")
        self._refresh_buttons()
        self.modelActivated.emit(version)

    def retrain_in_background(self) -> bool:
        """"Retrain every N reviewed images" came due: read the folder again and start without showing the dialog
        (the same child process, cancel and registry). False when a run is in progress."""
        if self.runner.running or self.state in (RUNNING, CANCELLING):
            return False
        if self.state != SETUP:
            self.session.new_run()
            self.pages.setCurrentIndex(0)
        self._start_when_read = True
        self.read_folder(self.folder, self.annotation_dir)
        return True

    def new_run(self) -> None:
        """Back to page 1 for another run (the folder is read again: annotations may have changed)."""
        self.session.new_run()
        self.pages.setCurrentIndex(0)
        self.starting_label.setText(self._starting_model_text())
        self.read_folder(self.folder, self.annotation_dir)

    # ---- showing --------------------------------------------------------------------------------------------------
    def _redraw(self, changed: str = "all") -> None:
        """Status always; a curve only when its data changed (``changed``: "step", "epoch", "all" or "")."""
        progress = self.session.progress
        self.status_label.setText(progress.status)
        self.eta_label.setText(progress.eta_text)
        self.progress_bar.setValue(round(1000 * progress.fraction))
        if changed in ("step", "all"):
            self.step_curve.setData(*_columns(progress.step_loss))
        if changed in ("epoch", "all"):
            self.epoch_curve.setData(*_columns(progress.epoch_loss))
            for key, curve in self.val_curves.items():
                xs, ys = _columns(progress.val[key])
                curve.setData(xs, [100 * y for y in ys])
            self.best_line.setValue(progress.best_epoch)
            self.best_line.setVisible(progress.best_epoch > 0)

    def _show_results(self, final: Finished) -> None:
        metrics = final.metrics
        self._fill_table(self.per_system_table, controller.PER_SYSTEM_HEADER, controller.per_system_rows(metrics))
        pooled = self.per_system_table.rowCount() - 1  # "All systems"
        for column in range(self.per_system_table.columnCount()):
            item = self.per_system_table.item(pooled, column)
            font = item.font()
            font.setBold(True)
            item.setFont(font)
        truth, predicted, matrix = controller.confusion(metrics)
        table = self.confusion_table
        table.setRowCount(len(truth))
        table.setColumnCount(len(predicted))
        table.setHorizontalHeaderLabels([controller.wrap_label(name) for name in predicted])
        table.setVerticalHeaderLabels(truth)
        for row, counts in enumerate(matrix):
            total = max(1, sum(counts))
            for column, count in enumerate(counts):
                item = QTableWidgetItem(str(count))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setBackground(_cell_colour(count / total, row == column))
                table.setItem(row, column, item)
        header, rows = controller.comparison_rows(final)
        self._fill_table(self.compare_table, header, rows)
        baseline = final.baseline or {}
        self.result_tabs.setTabText(2, f"Against version {baseline['version']}" if baseline.get("metrics")
                                    else "Against the active model")

    @staticmethod
    def _fill_table(table: QTableWidget, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
        table.clear()
        table.setColumnCount(len(header))
        table.setRowCount(len(rows))
        table.setHorizontalHeaderLabels(list(header))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                table.setItem(r, c, item)

    def _refresh_buttons(self) -> None:
        buttons = self.session.buttons()
        self.start_button.setVisible(self.state == SETUP)
        self.start_button.setEnabled(buttons.start)
        self.cancel_button.setVisible(self.state in (RUNNING, CANCELLING))
        self.cancel_button.setEnabled(buttons.cancel)
        self.keep_best_button.setVisible(self.state in (RUNNING, CANCELLING))
        self.keep_best_button.setEnabled(buttons.keep_best)
        self.use_button.setVisible(self.state == FINISHED)
        self.use_button.setEnabled(buttons.use_model)
        self.again_button.setVisible(self.state in (FINISHED, CANCELLED, FAILED))

    def _labels_changed(self) -> None:
        """Which labels count, and what they mean, change what the run trains on: read the folder again."""
        implant_labels, only = _label_list(self.implant_labels.text()), _label_list(self.only.text())
        if (implant_labels, only) != (self.options.implant_labels, self.options.only):
            self.options.implant_labels, self.options.only = implant_labels, only
            self.read_folder(self.folder, self.annotation_dir)

    def _read_options(self) -> None:
        options = self.options
        options.epochs, options.patience, options.lr = self.epochs.value(), self.patience.value(), self.lr.value()
        options.freeze_depth, options.time_limit_min = self.freeze_depth.value(), self.time_limit.value()
        options.image_size, options.device = self.image_size.currentData(), self.device.currentData()
        options.start_from_active = self.start_from_active.isChecked()
        options.pretrain_epochs, options.folds = self.pretrain_epochs.value(), self.folds.value()
        options.implant_labels, options.only = _label_list(self.implant_labels.text()), _label_list(self.only.text())

    # ---- closing ----------------------------------------------------------------------------------------------------
    def cancel_and_wait(self) -> None:
        """The window is closing: cancel the hard way (as "Cancel training") and wait until the child is gone."""
        self.cancel()
        self.runner.cancel_and_wait()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if self.state == RUNNING:
            if not ask.confirm(self, "Stop training?", "Training is still running. Stop it? Nothing will be "
                               "registered (use 'Stop and keep best' to keep the best epoch so far)."):
                event.ignore()
                return
            self.cancel()
        event.accept()

    def reject(self) -> None:  # Esc goes through closeEvent's question too
        self.close()

    # ---- construction -----------------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_setup_page())
        self.pages.addWidget(self._build_run_page())
        self.start_button = QPushButton("Start training")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.keep_best_button = QPushButton("Stop and keep best")
        self.keep_best_button.setToolTip("Stop after this step and register the best epoch so far as a new version")
        self.keep_best_button.clicked.connect(self.stop_and_keep_best)
        self.cancel_button = QPushButton("Cancel training")
        self.cancel_button.setToolTip("Stop now (within 2 s); nothing is registered")
        self.cancel_button.clicked.connect(self.cancel)
        self.use_button = QPushButton("Use this model")
        self.use_button.setToolTip("Make the new version the active model (you can go back with 'implant-desk models')")
        self.use_button.clicked.connect(self.use_model)
        self.again_button = QPushButton("Set up another run")
        self.again_button.clicked.connect(self.new_run)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        row = QHBoxLayout()
        row.addWidget(self.again_button)
        row.addStretch(1)
        for button in (self.start_button, self.keep_best_button, self.cancel_button, self.use_button, close):
            row.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages, 1)
        layout.addLayout(row)
        self._refresh_buttons()

    def _build_setup_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        intro = QLabel("Teach the identification model your implant systems from the boxes annotated in a folder. "
                       "Patients are kept apart: the figures at the end come from patients the model never "
                       "trained on. Each run becomes a new model version; the one in use changes only when you "
                       "choose.")
        intro.setWordWrap(True)
        self.folder_label = QLabel()
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        change = QPushButton("Change folder…")
        change.setAutoDefault(False)  # it takes the focus first: Enter must still start training, not pick a folder
        change.clicked.connect(self._choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(QLabel("<b>Folder:</b>"))
        folder_row.addWidget(self.folder_label, 1)
        folder_row.addWidget(change)
        self.annotations_label = QLabel()
        self.annotations_label.setStyleSheet(MUTED_STYLE)
        self.annotations_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        font = QFont(self.headline.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.headline.setFont(font)
        self.split_table = _table()
        self.split_table.verticalHeader().setVisible(False)
        self.split_table.horizontalHeader().setStretchLastSection(False)
        self.split_table.horizontalHeader().setMinimumSectionSize(96)
        self.systems_label = QLabel()
        self.systems_label.setWordWrap(True)
        self.sources_label = QLabel()  # reviewed, hand-made, left out
        self.sources_label.setWordWrap(True)
        self.warnings_label = QLabel()
        self.warnings_label.setWordWrap(True)
        self.warnings_label.setTextFormat(Qt.TextFormat.RichText)
        self.start_from_active = QCheckBox("Start from the active model (recommended: it already knows fixtures)")
        self.start_from_active.setChecked(self.options.start_from_active)
        self.starting_label = QLabel(self._starting_model_text())
        self.starting_label.setStyleSheet(MUTED_STYLE)
        self.start_from_active.toggled.connect(lambda _on: self.starting_label.setText(self._starting_model_text()))
        for widget in (intro, horizontal_rule()):
            layout.addWidget(widget)
        layout.addLayout(folder_row)
        layout.addWidget(self.annotations_label)
        for widget in (self.headline, self.split_table, self.sources_label, self.systems_label, self.warnings_label,
                       self.starting_label):
            layout.addWidget(widget)
        self.retrain_every = _spin(0, 100_000, self.options.retrain_every,
                                   "While you review, start a run in the background each time this many more "
                                   "images are marked reviewed (Space); 0: off")
        self.retrain_every.setSpecialValueText("off")
        self.retrain_every.valueChanged.connect(lambda value: setattr(self.options, "retrain_every", value))
        retrain_row = QHBoxLayout()
        retrain_row.addWidget(QLabel("Retrain in the background every"))
        retrain_row.addWidget(self.retrain_every)
        retrain_row.addWidget(QLabel("reviewed images"), 1)
        layout.addLayout(retrain_row)
        layout.addWidget(self._build_advanced())
        layout.addStretch(1)
        return page

    def _build_advanced(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        toggle = QToolButton()
        toggle.setText("Advanced options")
        toggle.setCheckable(True)
        toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toggle.setArrowType(Qt.ArrowType.RightArrow)
        toggle.setStyleSheet("QToolButton { border: none; font-weight: bold; }")
        self.advanced = QWidget()
        self.advanced.setMaximumWidth(560)
        form = QFormLayout(self.advanced)
        options = self.options
        self.epochs = _spin(1, 500, options.epochs, "At most this many passes over the training images")
        self.patience = _spin(0, 100, options.patience, "Stop when validation has not improved for this many "
                                                        "epochs (0: never stop early)")
        self.freeze_depth = _spin(0, 7, options.freeze_depth, "Pretrained stages (from the input) kept frozen after "
                                                              "the first epochs; 0 trains the whole network")
        self.lr = QDoubleSpinBox(decimals=5, minimum=1e-5, maximum=0.1, singleStep=1e-4, value=options.lr)
        self.lr.setToolTip("How fast the new layers learn; the pretrained ones learn at a tenth of it. Fine-tuning a "
                           "model that already finds implants on real films, 0.0002 did better than the default")
        self.time_limit = _spin(0, 24 * 60, options.time_limit_min, "Stop after this long and keep the best epoch; "
                                                                    "the learning rate is planned to have decayed by "
                                                                    "then (0: no limit)")
        self.time_limit.setSpecialValueText("no limit")
        self.time_limit.setSuffix(" min")
        self.pretrain_epochs = _spin(0, 100, options.pretrain_epochs,
                                     "First learn from the folder's images without labels, the unannotated ones "
                                     "too (masked image modelling), for this many epochs; 0: off")
        self.pretrain_epochs.setSpecialValueText("off")
        self.folds = _spin(0, 20, options.folds, "Patient-grouped cross-validation: train once per fold of patients "
                                                 "and report every figure as mean ± standard deviation over the "
                                                 "folds; the best fold's model is registered (0: one split)")
        self.folds.setSpecialValueText("off")
        self.image_size = QComboBox()
        for size in controller.IMAGE_SIZES:
            self.image_size.addItem(f"{size} px" if size else "as the starting model", size)
        self.image_size.setCurrentIndex(max(0, self.image_size.findData(options.image_size)))
        self.image_size.setToolTip("Size the detector sees the radiograph at: larger finds small fixtures better "
                                   "but trains slower")
        self.device = QComboBox()
        for key, label in controller.DEVICES:
            self.device.addItem(label, key)
        self.device.setCurrentIndex(max(0, self.device.findData(options.device)))
        self.implant_labels = QLineEdit(", ".join(options.implant_labels))
        self.implant_labels.setPlaceholderText("e.g. Titanium screw, Fixture X")
        self.implant_labels.setToolTip("Labels in this folder that mean an implant whose system is not given, "
                                       "separated by commas. They teach finding implants; fillings, caries, teeth "
                                       "and design parts are never counted as implants.")
        self.implant_labels.editingFinished.connect(self._labels_changed)
        self.only = QLineEdit(", ".join(options.only))
        self.only.setPlaceholderText("every label")
        self.only.setToolTip("Only boxes with these labels count, separated by commas (implant-desk train --only); "
                             "the other boxes are left out, and their images still teach what is not a fixture.")
        self.only.editingFinished.connect(self._labels_changed)
        for label, widget in (("Epochs", self.epochs), ("Patience (epochs)", self.patience),
                              ("Learning rate", self.lr), ("Frozen stages", self.freeze_depth),
                              ("Image size", self.image_size),
                              ("Device", self.device), ("Time limit", self.time_limit),
                              ("Self-supervised pre-training epochs", self.pretrain_epochs),
                              ("Cross-validation folds", self.folds), ("Only these labels", self.only),
                              ("Also implants", self.implant_labels)):
            form.addRow(label, widget)
        form.addRow(self.start_from_active)
        self.advanced.hide()

        def fold(open_: bool) -> None:
            self.advanced.setVisible(open_)
            toggle.setArrowType(Qt.ArrowType.DownArrow if open_ else Qt.ArrowType.RightArrow)

        toggle.toggled.connect(fold)
        self.advanced_toggle = toggle
        layout.addWidget(toggle)
        layout.addWidget(self.advanced)
        return box

    def _build_run_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.status_label = QLabel()
        self.status_label.setStyleSheet("font-weight: bold;")
        self.eta_label = QLabel()
        self.eta_label.setStyleSheet(MUTED_STYLE)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status_label, 1)
        status_row.addWidget(self.eta_label)
        self.data_label = QLabel()
        self.data_label.setStyleSheet(MUTED_STYLE)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.loss_plot = _plot("Training loss", "loss", legend_at_top=True)
        self.step_curve = self.loss_plot.plot(pen=LOSS_PEN, name="each step")
        self.epoch_curve = self.loss_plot.plot(pen=EPOCH_PEN, symbol="o", symbolSize=6, symbolBrush="#1f5fa8",
                                               name="epoch mean")
        self.val_plot = _plot("Validation patients (not trained on)", "%", legend_at_top=False)
        self.val_plot.setYRange(0, 100)
        self.best_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#5f6368", style=Qt.PenStyle.DashLine),
                                         label="best epoch", labelOpts={"position": 0.06, "color": "#5f6368"})
        self.best_line.hide()
        self.val_plot.addItem(self.best_line)
        self.val_curves = {key: self.val_plot.plot(pen=VAL_PENS[key], symbol="o", symbolSize=6,
                                                   symbolBrush=VAL_PENS[key].color(), name=label)
                           for key, label in controller.CURVES}
        plots = QHBoxLayout()
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.val_plot)
        self.results = QWidget()
        results = QVBoxLayout(self.results)
        results.setContentsMargins(0, 0, 0, 0)
        self.outcome_label = QLabel()
        self.outcome_label.setWordWrap(True)
        self.per_system_table, self.confusion_table, self.compare_table = _table(), _table(), _table()
        for table in (self.per_system_table, self.confusion_table, self.compare_table):
            table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for table in (self.per_system_table, self.compare_table):
            table.verticalHeader().setVisible(False)
            table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.result_tabs = QTabWidget()
        self.result_tabs.addTab(self.per_system_table, "Per system")
        self.result_tabs.addTab(self.confusion_table, "Confusion matrix (rows: truth)")
        self.result_tabs.addTab(self.compare_table, "Against the active model")
        results.addWidget(self.outcome_label)
        results.addWidget(self.result_tabs)
        self.results.hide()
        layout.addWidget(self.data_label)
        layout.addLayout(status_row)
        layout.addWidget(self.progress_bar)
        layout.addLayout(plots, 1)
        layout.addWidget(self.results, 1)
        self.run_layout = layout
        return page


def _plot(title: str, unit: str, legend_at_top: bool) -> pg.PlotWidget:
    """A white plot; the legend sits where the curves usually are not (loss falls, accuracy rises)."""
    plot = pg.PlotWidget(background="w")
    plot.setTitle(title, color="#202124", size="11pt")
    plot.setLabel("bottom", "epoch")
    plot.setLabel("left", unit)
    plot.showGrid(x=True, y=True, alpha=0.2)
    plot.addLegend(offset=(-10, 10 if legend_at_top else -10))
    plot.setMinimumHeight(180)
    for axis in ("left", "bottom"):
        plot.getAxis(axis).setTextPen("#3c4043")
        plot.getAxis(axis).setPen("#9aa0a6")
        # Early in a run the steps sit at 0.2-0.3 epochs: plain decimals, never "epoch (x0.001)" with 200-300.
        plot.getAxis(axis).enableAutoSIPrefix(False)
    return plot


def _table() -> QTableWidget:
    table = QTableWidget()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.verticalHeader().setVisible(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _fit_to_contents(table: QTableWidget) -> None:
    """Exactly as large as its cells: a short table should not look like a half-empty list."""
    table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.resizeColumnsToContents()
    table.setFixedSize(table.horizontalHeader().length() + 2 * table.frameWidth(),
                       table.horizontalHeader().sizeHint().height() + table.verticalHeader().length()
                       + 2 * table.frameWidth())


def _spin(low: int, high: int, value: int, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setToolTip(tip)
    return spin


def _columns(points: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    return [x for x, _ in points], [y for _, y in points]


def _cell_colour(share: float, correct: bool) -> QColor:
    """Diagonal cells green, the others red, stronger with the share of the row they hold."""
    if share == 0:
        return QColor("#ffffff")
    hue = QColor("#2e7d32") if correct else QColor("#c62828")
    return QColor.fromRgbF(1 - (1 - hue.redF()) * share * 0.55, 1 - (1 - hue.greenF()) * share * 0.55,
                           1 - (1 - hue.blueF()) * share * 0.55)


def _label_list(text: str) -> tuple[str, ...]:
    return tuple(label.strip() for label in text.split(",") if label.strip())


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
