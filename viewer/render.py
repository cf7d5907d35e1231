"""Renderer adapter: scene model layers -> VTK actors (pyvista).

INTERFACE (being implemented; the Qt window and the CLI depend on exactly this):

class SceneRenderer:
    def __init__(self, plotter, scene, point_budget=1_500_000)
        plotter: pyvista.Plotter (off-screen, CLI) or pyvistaqt.QtInteractor (GUI).
        Subscribes to scene events and keeps one actor per layer in sync
        (visibility, opacity, colour mode, point size, hidden classes, transform,
        background, eye-dome lighting). Positions drawn = layer local positions
        + (layer.origin - scene.origin), float32.
    def close(self)                 -> disconnect from the scene, remove actors
    def render(self)                -> plotter.render()
    def fit(self, layers=None)      -> reset camera on the bounds of layers (default all visible)
    def view_preset(self, name)     -> name in {"top","front","side","iso","fit"}
    def pick(self, x, y) -> Pick | None
        display coords (VTK convention, origin bottom-left) -> nearest point / vertex of a
        visible layer; also calls scene.set_pick(pick).
    def screenshot(self, path, size=None) -> Path
        save the 3D view as PNG at any resolution (size (w, h), may exceed the window).
    def camera_to_scene(self) / scene_to_camera(self)  sync Scene.camera (true coords)
"""
