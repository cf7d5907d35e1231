"""Playing a tour in the window: a QTimer asks :class:`viewer.tours.TourPath` for the
camera at the time elapsed since ``play`` and draws it; the caption of the stop being
played (:func:`viewer.tours.stop_text`: the stop's title and caption, and an annotation's
title, description and first photo) is shown over the bottom of the 3D view, and cleared
when the tour ends or is stopped.

The camera path (keyframes, timing, easing) is Qt-free in :mod:`viewer.tours`, shared
with ``realscene tour``; this module only drives it from the event loop so the window
stays responsive. ``stop()`` ends a tour at any time.
"""

from __future__ import annotations

import time

from PySide6 import QtCore, QtGui, QtWidgets

from ..tours import StopText, TourPath, stop_text

#: long side of the photo thumbnail in the caption, in pixels
THUMBNAIL_PX = 128


class CaptionOverlay(QtWidgets.QFrame):
    """A translucent box over the bottom of the 3D view: title, caption, the annotation's
    title and description, and its photo. A child of the window (not of the OpenGL view,
    which would paint over it), kept over the view's rectangle."""

    def __init__(self, window) -> None:
        super().__init__(window, objectName="tourCaption")
        self.window = window
        self.setStyleSheet(
            "#tourCaption { background: rgba(20, 20, 20, 200); border-radius: 6px; }"
            "#tourCaption QLabel { color: white; background: transparent; }")
        self.photo = QtWidgets.QLabel(objectName="tourCaptionPhoto")
        self.photo.setFixedSize(THUMBNAIL_PX, THUMBNAIL_PX)
        self.photo.setAlignment(QtCore.Qt.AlignCenter)
        self.title = QtWidgets.QLabel(objectName="tourCaptionTitle")
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.title.setFont(font)
        self.caption = QtWidgets.QLabel(objectName="tourCaptionText", wordWrap=True)
        self.detail = QtWidgets.QLabel(objectName="tourCaptionDetail", wordWrap=True)
        for label in (self.title, self.caption, self.detail):
            label.setTextFormat(QtCore.Qt.PlainText)
        text = QtWidgets.QVBoxLayout()
        text.addWidget(self.title)
        text.addWidget(self.caption)
        text.addWidget(self.detail)
        text.addStretch(1)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addWidget(self.photo, 0, QtCore.Qt.AlignTop)
        layout.addLayout(text, 1)
        self.shown: StopText | None = None
        self.hide()

    def show_text(self, text: StopText, pixmap: QtGui.QPixmap | None = None) -> None:
        self.shown = text
        self.title.setText(text.title)
        self.title.setVisible(bool(text.title))
        self.caption.setText(text.caption)
        self.caption.setVisible(bool(text.caption))
        detail = []
        if text.annotation_title and text.annotation_title != text.title:
            detail.append(text.annotation_title)
        if text.description:
            detail.append(text.description)
        self.detail.setText("\n".join(detail))
        self.detail.setVisible(bool(detail))
        if pixmap is not None and not pixmap.isNull():
            self.photo.setPixmap(pixmap.scaled(THUMBNAIL_PX, THUMBNAIL_PX,
                                               QtCore.Qt.KeepAspectRatio,
                                               QtCore.Qt.SmoothTransformation))
            self.photo.show()
        else:
            self.photo.clear()
            self.photo.hide()
        self.place()
        self.show()
        self.raise_()

    def clear(self) -> None:
        self.shown = None
        self.hide()

    def place(self) -> None:
        """Over the bottom of the 3D view, at most 720 px wide, centred."""
        view = self.window.plotter.interactor
        top_left = view.mapTo(self.window, QtCore.QPoint(0, 0))
        rect = QtCore.QRect(top_left, view.size())
        width = min(720, rect.width() - 24)
        self.setFixedWidth(max(width, 120))
        self.adjustSize()
        height = min(self.sizeHint().height(), max(rect.height() // 2, 60))
        self.resize(self.width(), height)
        self.move(rect.left() + (rect.width() - self.width()) // 2,
                  rect.bottom() - height - 12)


class TourPlayer(QtCore.QObject):
    finished = QtCore.Signal()
    stop_reached = QtCore.Signal(int)

    def __init__(self, window, clock=time.monotonic) -> None:
        super().__init__(window)
        self.window = window
        self.clock = clock
        self.timer = QtCore.QTimer(self, interval=40)
        self.timer.timeout.connect(self._tick)
        self.tour = None
        self.path: TourPath | None = None
        self._reached: set[int] = set()
        self.caption = CaptionOverlay(window)
        self._caption_stop: int | None = None
        self._photos: dict[str, QtGui.QPixmap | None] = {}

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def play(self, tour) -> None:
        if self.tour is not None:
            self.stop()
        start = self.window.renderer.camera_to_scene(emit=False)
        self.tour = tour
        self.path = TourPath(self.window.session.project, tour, start)
        self._reached = set()
        self._caption_stop = None
        self._photos = {}
        self.t0 = self.clock()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self.caption.clear()
        self._caption_stop = None
        if self.tour is not None:
            self.tour = None
            self.path = None
            self.finished.emit()

    def _photo(self, reference: str | None) -> QtGui.QPixmap | None:
        """The annotation's photo as a thumbnail: resolved inside the project folder and
        decoded afresh (heritage.media); None when it is refused or unreadable."""
        if not reference:
            return None
        if reference not in self._photos:
            from heritage.media import MediaRefused, embeddable_image

            pixmap = None
            try:
                image = embeddable_image(self.window.session.project.folder, reference,
                                         max_px=THUMBNAIL_PX * 2)
                pixmap = QtGui.QPixmap()
                if not pixmap.loadFromData(image.data):
                    pixmap = None
            except MediaRefused:
                pixmap = None
            self._photos[reference] = pixmap
        return self._photos[reference]

    def _show_caption(self, index: int) -> None:
        if index == self._caption_stop:
            return
        self._caption_stop = index
        text = stop_text(self.window.session.project, self.tour.stops[index])
        if text.empty:
            self.caption.clear()
        else:
            self.caption.show_text(text, self._photo(text.photo))

    def _tick(self) -> None:
        if self.tour is None or self.path is None:
            return
        elapsed = self.clock() - self.t0
        self.window.scene.camera = self.path.camera_at(elapsed)
        self.window.renderer.scene_to_camera()
        self.window.renderer.render()
        leg = self.path.leg_at(elapsed)
        if leg is not None:
            self._show_caption(leg.index)
        for index in self.path.stops_done(elapsed):
            if index not in self._reached:
                self._reached.add(index)
                self.stop_reached.emit(index)
        if elapsed >= self.path.duration:
            self.stop()
