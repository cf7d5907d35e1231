/* RealScene web exhibit: hotspots, tour and language toggle around <model-viewer>.
   Everything is read from the page itself (#exhibit-data) and from files beside it;
   nothing is fetched from the network. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("exhibit-data").textContent);
  var mv = document.getElementById("model");
  var lang = data.lang === "en" ? "en" : "zh";
  var openHotspot = null;   // the hotspot whose panel is shown
  var tour = null;          // {tour, index} while a tour runs
  var IDLE_MS = (data.idle_seconds || 180) * 1000;
  var idleTimer = null;

  function $(id) { return document.getElementById(id); }
  function t(key) { return (data.ui[lang] && data.ui[lang][key]) || data.ui.en[key] || key; }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  /* -- the viewer: decoders kept inside the folder, the model from a file or a script -- */
  var MV = customElements.get("model-viewer");
  if (MV) {
    MV.dracoDecoderLocation = "viewer/draco/";
    MV.ktx2TranscoderLocation = "viewer/basis/";
    MV.lottieLoaderLocation = "viewer/LottieLoader.js";
  }
  mv.setAttribute("min-camera-orbit", "-Infinity 0deg 0.5m");
  mv.setAttribute("max-camera-orbit", "Infinity 180deg " + data.max_radius + "m");
  mv.setAttribute("max-camera-target", "Infinity Infinity Infinity");
  function sizePoints() {
    // glTF has no point size: three.js draws 1 px points, thin on a kiosk screen; the
    // layers' point size (pixels) is applied to the loaded scene (model-viewer 4.4 keeps
    // it under its "scene" symbol; another version without it keeps its default)
    var sym = Object.getOwnPropertySymbols(mv).filter(function (k) {
      return k.description === "scene";
    })[0];
    var scene = sym && mv[sym];
    if (!scene || typeof scene.traverse !== "function") return;
    scene.traverse(function (o) {
      if (o.isPoints && o.material) {
        o.material.size = data.point_size * (window.devicePixelRatio || 1);
        o.material.needsUpdate = true;
      }
    });
    if (typeof scene.queueRender === "function") scene.queueRender();
  }
  mv.addEventListener("load", function () {
    sizePoints();
    document.body.dataset.loaded = "1";
    $("loading").hidden = true;
  });
  mv.addEventListener("error", function () {
    document.body.dataset.loaded = "error";
    $("loading").textContent = t("load_failed");
  });

  function bytesFromBase64(b64) {
    if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(b64);
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  if (location.protocol === "file:") {
    // browsers refuse fetch() of file:// URLs: the same GLB comes as a classic script
    var s = el("script", { src: "model.glb.js" });
    s.onload = function () {
      var bytes = bytesFromBase64(window.REALSCENE_MODEL_B64);
      delete window.REALSCENE_MODEL_B64;
      mv.src = URL.createObjectURL(new Blob([bytes], { type: "model/gltf-binary" }));
    };
    s.onerror = function () { document.body.dataset.loaded = "error"; };
    document.head.appendChild(s);
  } else {
    mv.src = "model.glb";
  }

  /* -- hotspots -------------------------------------------------------------------- */
  data.hotspots.forEach(function (h) {
    var b = el("button", {
      slot: "hotspot-" + h.number, "class": "hotspot", type: "button",
      "data-position": h.position.join(" "), "data-hotspot": String(h.number),
      style: "--color: " + h.color
    }, String(h.number));
    b.addEventListener("click", function (ev) {
      ev.stopPropagation();
      showPanel(h);
      fly(h.camera);
    });
    mv.appendChild(b);
  });

  function fly(camera) {
    mv.cameraTarget = camera.target;
    mv.cameraOrbit = camera.orbit;
  }

  function showPanel(h) {
    openHotspot = h;
    document.querySelectorAll(".hotspot").forEach(function (b) {
      b.classList.toggle("active", b.dataset.hotspot === String(h.number));
    });
    renderPanel();
    $("panel").hidden = false;
  }

  function hidePanel() {
    openHotspot = null;
    $("panel").hidden = true;
    document.querySelectorAll(".hotspot.active").forEach(function (b) {
      b.classList.remove("active");
    });
  }

  function renderPanel() {
    var h = openHotspot;
    if (!h) return;
    $("panel-title").textContent = h.title || ("#" + h.number);
    var facts = $("panel-facts");
    facts.textContent = "";
    function fact(key, value) {
      facts.appendChild(el("dt", { "data-fact": key }, t(key)));
      facts.appendChild(el("dd", { "data-fact": key }, value));
    }
    if (h.category[lang]) fact("category", h.category[lang]);
    fact("condition", h.condition[lang] || t("not_assessed"));
    if (h.observed) fact("observed", h.observed);
    $("panel-description").textContent = h.description || "";
    var photos = $("panel-photos");
    photos.textContent = "";
    h.photos.forEach(function (src) { photos.appendChild(el("img", { src: src, alt: h.title })); });
  }

  /* -- tour -------------------------------------------------------------------------- */
  function renderTourChoice() {
    var box = $("tour-choice");
    box.textContent = "";
    data.tours.forEach(function (tr, i) {
      var label = t("start_tour") + (data.tours.length > 1 ? ": " + tr.name : "");
      var b = el("button", { "class": "tool big", type: "button", "data-tour": String(i) }, label);
      b.addEventListener("click", function () { startTour(i); });
      box.appendChild(b);
    });
  }

  function startTour(i) {
    tour = { tour: data.tours[i], index: 0 };
    $("tour-choice").hidden = true;
    $("tour-running").hidden = false;
    goStop(0);
  }

  function endTour() {
    tour = null;
    $("tour-running").hidden = true;
    $("tour-choice").hidden = false;
  }

  function goStop(i) {
    var stops = tour.tour.stops;
    tour.index = Math.max(0, Math.min(stops.length - 1, i));
    var stop = stops[tour.index];
    fly(stop.camera);
    if (stop.hotspot) {
      showPanel(data.hotspots[stop.hotspot - 1]);
    } else {
      hidePanel();
    }
    renderTourStatus();
  }

  function renderTourStatus() {
    if (!tour) return;
    var stops = tour.tour.stops, stop = stops[tour.index];
    $("tour-step").textContent = tour.tour.name + " · " +
      t("stop_of").replace("{i}", tour.index + 1).replace("{n}", stops.length);
    // the stop's title (its own, the view's name or the annotation's title) and the
    // caption the author wrote for it (a stop added as "the current view" may have only that)
    $("tour-title").textContent = stop.title || "";
    $("tour-caption").textContent = stop.caption || "";
    $("tour-prev").disabled = tour.index === 0;
    $("tour-next").disabled = tour.index === stops.length - 1;
    document.body.dataset.tourStop = String(tour.index + 1);
  }

  /* -- language ---------------------------------------------------------------------- */
  function setLang(l) {
    lang = l === "en" ? "en" : "zh";
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    document.querySelectorAll("[data-i18n]").forEach(function (e) {
      e.textContent = t(e.dataset.i18n);
    });
    document.querySelectorAll("button.lang").forEach(function (b) {
      b.setAttribute("aria-pressed", b.dataset.lang === lang ? "true" : "false");
    });
    renderPanel();
    renderTourChoice();
    renderTourStatus();
  }

  /* -- kiosk: controls, full screen, back to the start when nobody is there ------------ */
  function resetView() {
    // the project's first saved view, else the whole model from the south, 55° down
    mv.cameraTarget = data.home ? data.home.target : "auto auto auto";
    mv.cameraOrbit = data.home ? data.home.orbit : "0deg 55deg 105%";
  }

  function idleReset() {
    endTour();
    hidePanel();
    resetView();
    setLang(data.lang);
  }

  function touched() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(idleReset, IDLE_MS);
  }

  ["pointerdown", "keydown", "wheel"].forEach(function (type) {
    window.addEventListener(type, touched, { passive: true });
  });
  $("panel-close").addEventListener("click", hidePanel);
  $("tour-prev").addEventListener("click", function () { goStop(tour.index - 1); });
  $("tour-next").addEventListener("click", function () { goStop(tour.index + 1); });
  $("tour-end").addEventListener("click", endTour);
  $("btn-home").addEventListener("click", function () { hidePanel(); resetView(); });
  $("btn-fullscreen").addEventListener("click", function () {
    if (document.fullscreenElement) {
      document.exitFullscreen();
    } else if (document.documentElement.requestFullscreen) {
      document.documentElement.requestFullscreen().catch(function () {});
    }
  });
  document.querySelectorAll("button.lang").forEach(function (b) {
    b.addEventListener("click", function () { setLang(b.dataset.lang); });
  });
  document.addEventListener("contextmenu", function (ev) { ev.preventDefault(); });

  $("title").textContent = data.title;
  resetView();
  $("tourbar").hidden = data.tours.length === 0;
  setLang(lang);
  touched();
  window.realsceneExhibit = { data: data, setLang: setLang, startTour: startTour };
})();
