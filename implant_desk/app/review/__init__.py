"""Review (issue 13): pre-annotate the folder in the background, review proposed boxes by keyboard, go to the
image to review next. Installed into the annotation window like the fine-tune tool; policy is in ``controller``.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QProgressDialog

from implant_desk.app.canvas.overlay import OverlayItem
from implant_desk.app.controllers.shortcuts import BY_ACTION
from implant_desk.app.review.controller import RetrainSchedule, ReviewController
from implant_desk.core.annotations.folder import PROPOSED, VERIFIED
from implant_desk.core.review.order import ORDERS

ORDER_TEXT = {"uncertainty": "Most uncertain first", "random": "Random", "file": "File order"}


class Review(QObject):
    """The window's review tools. ``show`` is called with the document whenever it changes."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.controller = ReviewController()
        self.controller.order = window.settings.review_order if window.settings.review_order in ORDERS else ORDERS[0]
        self.job = None  # the running PreannotateJob
        self.progress: QProgressDialog | None = None
        self._document = None
        self.schedule = RetrainSchedule()
        self.actions = self._build_actions()
        window.installEventFilter(self)
        window.files.model.modelReset.connect(self._folder_listed)
        window.files.model.dataChanged.connect(self._retrain_if_due)

    # ---- the open image -------------------------------------------------------------------------------------------
    def show(self, document) -> None:
        if document is not self._document:
            self._document = document
            self.controller.image_changed()
        views, current = self.controller.views(document)
        self.window.canvas.set_proposals([OverlayItem(v.box, v.text, v.color) for v in views], current)

    def _act(self, decide) -> None:
        document = self.window.session.document
        message = decide(document)
        self.show(document)
        following = self.controller.keys_text(document) if document is not None and document.pending_indices else ""
        self.window.statusBar().showMessage(f"{message}. Next: {following}" if following else message, 15000)

    def next_proposal(self) -> None:
        self.window.canvas.setFocus()  # where the number keys relabel
        self.controller.next_proposal(self.window.session.document)
        self.show(self.window.session.document)
        self.window.statusBar().showMessage(self.controller.keys_text(self.window.session.document), 15000)

    def next_to_review(self) -> None:
        current = self.window.navigator.current_item
        path = self.controller.next_image(self.window.navigator.items, current.path if current else None)
        if path is None:
            self.window.statusBar().showMessage("Every image of this folder is reviewed or annotated", 5000)
            return
        self.window.show_image(self.window.navigator.index_of(path))
        self.window.canvas.setFocus()

    def set_order(self, order: str) -> None:
        self.controller.order = self.window.settings.review_order = order

    def reviewed_count(self) -> int:
        return sum(item.status == VERIFIED for item in self.window.navigator.items)

    # ---- retraining every N reviewed images --------------------------------------------------------------------------
    def _folder_listed(self) -> None:
        self.schedule.baseline = self.reviewed_count()

    def _retrain_if_due(self) -> None:
        """An image's status changed (a save): the fine-tune dialog's "retrain every N reviewed images" may be due."""
        dialog = getattr(self.window, "finetune_dialog", None)
        if dialog is None:
            return
        self.schedule.every = dialog.options.retrain_every
        reviewed = self.reviewed_count()
        if self.schedule.due(reviewed) and dialog.retrain_in_background():
            self.schedule.baseline = reviewed
            self.window.statusBar().showMessage(
                f"{reviewed} images reviewed: retraining in the background (Tools > Fine-tune… shows it)", 10000)

    # ---- pre-annotating ------------------------------------------------------------------------------------------
    def preannotate(self) -> None:
        from implant_desk.app.review.worker import PreannotateJob  # loads with the Identify dock

        if self.job is not None:
            self.progress.show()
            return
        images = [item.path for item in self.window.navigator.items]
        if not images:
            self.window.statusBar().showMessage("Open a folder of radiographs first", 5000)
            return
        self.job = PreannotateJob(images, self.window.session.save_dir, self.window.identify_panel.provider,
                                  parent=self)
        self.progress = QProgressDialog("Loading the model…", "Stop", 0, len(images), self.window)
        self.progress.setWindowTitle("Pre-annotate folder")
        self.progress.setWindowModality(Qt.WindowModality.NonModal)  # keep working while it runs
        self.progress.setMinimumDuration(0)
        self.progress.canceled.connect(self.job.cancel)
        self.job.progress.connect(self._image_done)
        self.job.finished.connect(lambda results: self._ended(results, False))
        self.job.cancelled.connect(lambda results: self._ended(results, True))
        self.job.failed.connect(self._failed)
        self.job.start()
        self.progress.show()

    def _image_done(self, done: int, total: int, result) -> None:
        self.progress.setValue(done)
        self.progress.setLabelText(f"Pre-annotating {done} of {total}: {result.image.name}")
        navigator = self.window.navigator
        index = navigator.index_of(result.image)
        if index < 0 or result.skipped or result.error:
            return
        navigator.update(index, status=PROPOSED, pending=result.proposals)
        navigator.items[index].uncertainty = result.uncertainty
        self.window.files.model.item_changed(index)
        if index == navigator.current and not self.window.session.dirty:
            navigator.current = -1  # reopen it, so its new proposals show
            self.window.show_image(index)

    def _ended(self, results, cancelled: bool) -> None:
        from implant_desk.app.review.worker import outcome_text

        self._finish()
        self.window.statusBar().showMessage(outcome_text(results, cancelled), 15000)

    def _failed(self, message: str) -> None:
        self._finish()
        from implant_desk.app.dialogs import ask

        ask.error(self.window, "Pre-annotate folder", message)

    def _finish(self) -> None:
        self.job.wait()
        self.progress.reset()
        self.progress.deleteLater()
        self.job.deleteLater()
        self.job, self.progress = None, None

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        """The window closing: a running job stops after its current image (its files are each complete)."""
        if watched is self.window and event.type() == QEvent.Type.Close and self.job is not None:
            self.job.cancel()
            self.job.wait()
        return False

    # ---- construction ---------------------------------------------------------------------------------------------
    def _build_actions(self) -> dict[str, QAction]:
        handlers = {
            "preannotate": self.preannotate,
            "next_proposal": self.next_proposal,
            "next_to_review": self.next_to_review,
            "accept_proposal": lambda: self._act(self.controller.accept),
            "reject_proposal": lambda: self._act(self.controller.reject),
            "accept_all_proposals": lambda: self._act(self.controller.accept_all),
            **{f"candidate_{rank}": (lambda _checked=False, rank=rank: self._act(lambda d: self.controller.relabel(d, rank)))
               for rank in (1, 2, 3)},
        }
        menu = self.window.tools_menu().addMenu("&Review")
        actions = {}
        for name, handler in handlers.items():
            shortcut = BY_ACTION[name]
            action = QAction(shortcut.text, self.window)
            action.setShortcuts([QKeySequence(key) for key in shortcut.keys])
            action.setToolTip(f"{shortcut.text} ({shortcut.keys[0]})")
            action.triggered.connect(handler)
            if name.startswith("candidate_"):  # digits stay the file list's type-to-find keys while it has focus
                action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                self.window.canvas.addAction(action)
            else:
                self.window.addAction(action)
            menu.addAction(action)
            actions[name] = action
        order_menu = menu.addMenu("Which image next")
        group = QActionGroup(self)
        for order in ORDERS:
            action = order_menu.addAction(ORDER_TEXT[order])
            action.setCheckable(True)
            action.setChecked(order == self.controller.order)
            action.triggered.connect(lambda _checked=False, order=order: self.set_order(order))
            group.addAction(action)
        return actions


def install_review(window) -> Review:
    return Review(window)
