// realscene-osgb-worker: a persistent OpenSceneGraph reader of OSGB tiles for RealScene.
//
// Why: running `osgconv` per tile costs ~70 ms, almost all of it plugin start-up. This
// worker loads OSG once and then answers one request per line on stdin, reading each
// .osgb with OpenSceneGraph itself (osgDB::readRefNodeFile, the osgb plugin; no
// hand-written parser of the binary format).
//
// Request (one line):  "P <path>" (geometry + texture pixels) or "S <path>" (no pixels:
// spheres, PagedLOD data and geometry only), or "V" (version probe).
// Reply: "RSOW", uint32 protocol version, uint64 payload length, payload (little-endian):
//   uint8 status: 0 ok, 1 error (then str message)
//   ok: warnings (uint32 n, str each)
//       images   (uint32 n; each uint32 w, h, pixel format, data type, origin; str file
//                 name; uint64 byte count; bytes: rows tightly packed, 8-bit channels)
//       lods     (uint32 n; each uint8 user centre, f64 x3 centre, f64 radius,
//                 uint8 pixel-size range mode, uint32 n ranges + f64 pairs,
//                 uint32 n file names + str each, str database path, matrix)
//       geoms    (uint32 n; each int32 lod index (-1: outside any PagedLOD), matrix,
//                 uint8 vertex type (4: float32, 8: float64) + uint32 n + xyz,
//                 uint8 uv type (0 none, 4, 8) + uint32 n + uv,
//                 uint32 n primitive sets; each uint32 GL mode, uint32 n, uint32 indices,
//                 uint8 has diffuse + f32 x4, uint32 n + int32 image indices)
//   str = uint32 byte count + UTF-8 bytes; matrix = uint8 present + f64 x16 (row-major,
//   OSG's row-vector convention: v' = v * M).
// Errors (unreadable file, bad_alloc...) are replies; a crash is seen by the caller as the
// end of stdout, and the caller restarts the worker.
//
// Build: g++ -O2 -std=c++17 osgb_worker.cpp -losgDB -losg -lOpenThreads
// (loaders/tiles/osgb_worker.py builds it; ./run calls that once).

#include <osg/Geode>
#include <osg/Geometry>
#include <osg/Image>
#include <osg/Material>
#include <osg/MatrixTransform>
#include <osg/Notify>
#include <osg/PagedLOD>
#include <osg/ProxyNode>
#include <osg/Texture>
#include <osgDB/ReadFile>
#include <osgDB/Registry>

#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/resource.h>
#include <csignal>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <new>
#include <string>
#include <vector>

namespace {

const uint32_t PROTOCOL = 1;
const uint64_t MAX_TEXTURE_PIXELS = 8192ull * 8192ull;
int g_out = 1;  // the reply channel (a private copy of the original stdout)

// ---- OSG's messages: kept for the error reply, never written to stdout ----------------
class KeepNotify : public osg::NotifyHandler {
 public:
  std::string last;
  void notify(osg::NotifySeverity severity, const char* message) override {
    if (severity > osg::WARN || message == nullptr) return;
    std::string m(message);
    while (!m.empty() && (m.back() == '\n' || m.back() == '\r' || m.back() == ' ')) m.pop_back();
    for (char& ch : m)
      if (ch == '\n' || ch == '\r') ch = ' ';
    if (!m.empty()) last = m.substr(0, 300);
  }
};
KeepNotify* g_notify = nullptr;

// ---- "spheres only" requests skip decoding the tiles' embedded images ------------------
// The osgb plugin decodes an embedded JPEG/PNG with the image plugin for its extension; a
// wrapper put first in the registry answers an empty image while g_skip_images is set and
// hands the bytes to the real plugin otherwise.
bool g_skip_images = false;

class SkipImages : public osgDB::ReaderWriter {
 public:
  SkipImages(const std::string& ext, osgDB::ReaderWriter* real) : _real(real) {
    supportsExtension(ext, "images of RealScene's OSGB worker");
  }
  const char* className() const override { return "RealScene image skipper"; }
  ReadResult readImage(std::istream& in, const Options* o) const override {
    if (g_skip_images) return new osg::Image;
    return _real->readImage(in, o);
  }
  ReadResult readImage(const std::string& file, const Options* o) const override {
    if (g_skip_images) return new osg::Image;
    return _real->readImage(file, o);
  }

 private:
  osg::ref_ptr<osgDB::ReaderWriter> _real;
};

void install_image_skippers() {
  osgDB::Registry* reg = osgDB::Registry::instance();
  for (const char* ext : {"jpg", "jpeg", "png", "dds", "tga", "bmp", "tif", "tiff", "ktx"}) {
    osgDB::ReaderWriter* real = reg->getReaderWriterForExtension(ext);
    if (real == nullptr) continue;
    auto& list = reg->getReaderWriterList();
    list.insert(list.begin(), new SkipImages(ext, real));
  }
}

// ---- reply buffer -----------------------------------------------------------------------
struct Buf {
  std::string b;
  void raw(const void* p, size_t n) { b.append(static_cast<const char*>(p), n); }
  void u8(uint8_t v) { raw(&v, 1); }
  void u32(uint32_t v) { raw(&v, 4); }
  void i32(int32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
  void f64(double v) { raw(&v, 8); }
  void f32(float v) { raw(&v, 4); }
  void str(const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    raw(s.data(), s.size());
  }
  void matrix(const osg::Matrixd* m) {
    u8(m ? 1 : 0);
    if (m)
      for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 4; ++c) f64((*m)(r, c));
  }
};

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t k = ::write(fd, p, n);
    if (k <= 0) return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

bool send(const Buf& payload) {
  Buf head;
  head.raw("RSOW", 4);
  head.u32(PROTOCOL);
  head.u64(payload.b.size());
  return write_all(g_out, head.b.data(), head.b.size()) &&
         write_all(g_out, payload.b.data(), payload.b.size());
}

bool send_error(const std::string& message) {
  Buf p;
  p.u8(1);
  p.str(message);
  return send(p);
}

// ---- the scene graph walk ---------------------------------------------------------------
struct Walk {
  bool pixels = true;
  std::vector<std::string> warnings;
  std::vector<const osg::Image*> images;
  std::map<const osg::Image*, int32_t> image_index;
  Buf lods, geoms;
  uint32_t n_lods = 0, n_geoms = 0;

  void warn(const std::string& w) {
    for (const auto& have : warnings)
      if (have == w) return;
    warnings.push_back(w);
  }

  void node(osg::Node* n, const osg::Matrixd* m, int32_t lod) {
    if (n == nullptr) return;
    if (auto* plod = dynamic_cast<osg::PagedLOD*>(n)) {
      int32_t me = static_cast<int32_t>(n_lods++);
      paged_lod(plod, m);
      for (unsigned i = 0; i < plod->getNumChildren(); ++i) node(plod->getChild(i), m, me);
      return;
    }
    if (auto* geo = dynamic_cast<osg::Geometry*>(n)) {
      if (std::strcmp(geo->className(), "Geometry") == 0) geometry(geo, m, lod);
      return;
    }
    osg::Matrixd acc;
    if (auto* mt = dynamic_cast<osg::MatrixTransform*>(n)) {
      acc = m ? mt->getMatrix() * (*m) : mt->getMatrix();
      m = &acc;
    } else if (dynamic_cast<osg::ProxyNode*>(n) != nullptr) {
      warnings.push_back("an osg::ProxyNode is not followed");
    }
    if (auto* g = n->asGroup())
      for (unsigned i = 0; i < g->getNumChildren(); ++i) node(g->getChild(i), m, lod);
  }

  void paged_lod(osg::PagedLOD* p, const osg::Matrixd* m) {
    auto mode = p->getCenterMode();
    bool user = mode == osg::LOD::USER_DEFINED_CENTER ||
                mode == osg::LOD::UNION_OF_BOUNDING_SPHERE_AND_USER_DEFINED;
    lods.u8(user ? 1 : 0);
    const osg::Vec3 c = user ? p->getCenter() : osg::Vec3();
    lods.f64(c.x());
    lods.f64(c.y());
    lods.f64(c.z());
    lods.f64(user ? p->getRadius() : 0.0);
    lods.u8(p->getRangeMode() == osg::LOD::PIXEL_SIZE_ON_SCREEN ? 1 : 0);
    const auto& ranges = p->getRangeList();
    lods.u32(static_cast<uint32_t>(ranges.size()));
    for (const auto& r : ranges) {
      lods.f64(r.first);
      lods.f64(r.second);
    }
    lods.u32(p->getNumFileNames());
    for (unsigned i = 0; i < p->getNumFileNames(); ++i) lods.str(p->getFileName(i));
    lods.str(p->getDatabasePath());
    lods.matrix(m);
  }

  int32_t image(const osg::Image* img) {
    auto found = image_index.find(img);
    if (found != image_index.end()) return found->second;
    int32_t k = static_cast<int32_t>(images.size());
    images.push_back(img);
    image_index[img] = k;
    return k;
  }

  // every image of the state set's textures, in unit order (the first readable one is
  // the drawable's texture)
  std::vector<int32_t> textures(const osg::StateSet* ss) {
    std::vector<int32_t> out;
    if (ss == nullptr || !pixels) return out;
    for (const auto& unit : ss->getTextureAttributeList())
      for (const auto& entry : unit) {
        const auto* tex = dynamic_cast<const osg::Texture*>(entry.second.first.get());
        if (tex == nullptr) continue;
        for (unsigned i = 0; i < tex->getNumImages(); ++i)
          if (const osg::Image* img = tex->getImage(i)) out.push_back(image(img));
      }
    return out;
  }

  template <class A>
  static void put_array(Buf& b, const A* a, uint8_t type) {
    b.u8(type);
    b.u32(static_cast<uint32_t>(a->getNumElements()));
    b.raw(a->getDataPointer(), a->getTotalDataSize());
  }

  void geometry(osg::Geometry* g, const osg::Matrixd* m, int32_t lod) {
    const osg::Array* va = g->getVertexArray();
    const auto* v3 = dynamic_cast<const osg::Vec3Array*>(va);
    const auto* v3d = dynamic_cast<const osg::Vec3dArray*>(va);
    if (v3 == nullptr && v3d == nullptr) {
      if (va != nullptr) warn(std::string("a vertex array of type ") + va->className() +
                              " is not read");
      return;
    }
    ++n_geoms;
    Buf& b = geoms;
    b.i32(lod);
    b.matrix(m);
    if (v3) put_array(b, v3, 4); else put_array(b, v3d, 8);
    const osg::Array* ta = pixels ? g->getTexCoordArray(0) : nullptr;
    if (const auto* t2 = dynamic_cast<const osg::Vec2Array*>(ta)) {
      put_array(b, t2, 4);
    } else if (const auto* t2d = dynamic_cast<const osg::Vec2dArray*>(ta)) {
      put_array(b, t2d, 8);
    } else {
      b.u8(0);
      b.u32(0);
    }
    // primitive sets as (GL mode, vertex indices); a DrawArrayLengths is one run per length
    Buf prims;
    uint32_t n_prims = 0;
    for (unsigned i = 0; i < g->getNumPrimitiveSets(); ++i) {
      const osg::PrimitiveSet* ps = g->getPrimitiveSet(i);
      if (ps == nullptr) continue;
      const uint32_t mode = ps->getMode();
      if (const auto* dal = dynamic_cast<const osg::DrawArrayLengths*>(ps)) {
        uint32_t first = static_cast<uint32_t>(dal->getFirst());
        for (auto len : *dal) {
          prims.u32(mode);
          prims.u32(static_cast<uint32_t>(len));
          for (int k = 0; k < len; ++k) prims.u32(first + static_cast<uint32_t>(k));
          first += static_cast<uint32_t>(len);
          ++n_prims;
        }
      } else if (const auto* da = dynamic_cast<const osg::DrawArrays*>(ps)) {
        prims.u32(mode);
        prims.u32(static_cast<uint32_t>(da->getCount()));
        for (int k = 0; k < da->getCount(); ++k)
          prims.u32(static_cast<uint32_t>(da->getFirst() + k));
        ++n_prims;
      } else if (const auto* de = ps->getDrawElements()) {
        const unsigned n = de->getNumIndices();
        prims.u32(mode);
        prims.u32(n);
        for (unsigned k = 0; k < n; ++k) prims.u32(de->index(k));
        ++n_prims;
      } else {
        warn(std::string("a primitive set of type ") + ps->className() + " is not read");
      }
    }
    b.u32(n_prims);
    b.raw(prims.b.data(), prims.b.size());
    const osg::StateSet* ss = g->getStateSet();
    const auto* mat = ss ? dynamic_cast<const osg::Material*>(
                               ss->getAttribute(osg::StateAttribute::MATERIAL))
                         : nullptr;
    b.u8(mat ? 1 : 0);
    if (mat) {
      const osg::Vec4 d = mat->getDiffuse(osg::Material::FRONT);
      for (int k = 0; k < 4; ++k) b.f32(d[k]);
    }
    const std::vector<int32_t> tex = textures(ss);
    b.u32(static_cast<uint32_t>(tex.size()));
    for (int32_t k : tex) b.i32(k);
  }

  // An image as 8-bit rows, tightly packed: the common formats as they are, any other
  // (compressed DXT, 16-bit, float...) converted to RGBA through osg::Image::getColor.
  void put_image(Buf& b, const osg::Image* img) {
    const uint32_t w = static_cast<uint32_t>(img->s()), h = static_cast<uint32_t>(img->t());
    GLenum fmt = img->getPixelFormat();
    const GLenum type = img->getDataType();
    unsigned ch = 0;
    switch (fmt) {
      case GL_RGB: case GL_BGR: ch = 3; break;
      case GL_RGBA: case GL_BGRA: ch = 4; break;
      case GL_LUMINANCE: ch = 1; break;
      case GL_LUMINANCE_ALPHA: ch = 2; break;
      default: ch = 0;
    }
    const bool plain = ch != 0 && type == GL_UNSIGNED_BYTE && !img->isCompressed();
    const bool fits = uint64_t(w) * h <= MAX_TEXTURE_PIXELS && img->data() != nullptr;
    if (!plain) {
      fmt = GL_RGBA;
      ch = 4;
    }
    b.u32(w);
    b.u32(h);
    b.u32(fmt);
    b.u32(GL_UNSIGNED_BYTE);
    b.u32(img->getOrigin() == osg::Image::TOP_LEFT ? 1 : 0);
    b.str(img->getFileName());
    if (!fits || w == 0 || h == 0) {
      b.u64(0);
      return;
    }
    const uint64_t row = uint64_t(w) * ch;
    b.u64(row * h);
    if (plain) {
      for (uint32_t t = 0; t < h; ++t) b.raw(img->data(0, t), row);
      return;
    }
    std::string px(row * h, '\0');
    for (uint32_t t = 0; t < h; ++t)
      for (uint32_t s = 0; s < w; ++s) {
        osg::Vec4 c = img->getColor(s, t);
        for (unsigned k = 0; k < 4; ++k) {
          float v = c[k] < 0.f ? 0.f : (c[k] > 1.f ? 1.f : c[k]);
          px[(uint64_t(t) * w + s) * 4 + k] = static_cast<char>(v * 255.f + 0.5f);
        }
      }
    b.raw(px.data(), px.size());
  }

  void finish(Buf& p) {
    p.u8(0);
    p.u32(static_cast<uint32_t>(warnings.size()));
    for (const auto& w : warnings) p.str(w);
    p.u32(static_cast<uint32_t>(images.size()));
    for (const auto* img : images) put_image(p, img);
    p.u32(n_lods);
    p.raw(lods.b.data(), lods.b.size());
    p.u32(n_geoms);
    p.raw(geoms.b.data(), geoms.b.size());
  }
};

bool answer(char flag, const std::string& path) {
  g_notify->last.clear();
  osg::ref_ptr<osgDB::Options> opts = new osgDB::Options;
  opts->setObjectCacheHint(osgDB::Options::CACHE_NONE);
  g_skip_images = flag == 'S';
  osg::ref_ptr<osg::Node> root = osgDB::readRefNodeFile(path, opts.get());
  g_skip_images = false;
  if (!root.valid()) {
    std::string why = "OpenSceneGraph cannot read it", said = g_notify->last;
    const std::string prefix = "Error reading file " + path + ": ";
    if (said.compare(0, prefix.size(), prefix) == 0) said = said.substr(prefix.size());
    if (!said.empty()) why += " (" + said + ")";
    return send_error(why);
  }
  Walk walk;
  walk.pixels = flag == 'P';
  walk.node(root.get(), nullptr, -1);
  Buf p;
  walk.finish(p);
  root = nullptr;
  return send(p);
}

}  // namespace

int main(int argc, char** argv) {
#ifdef __linux__
  // a worker stuck in OSG (seen on corrupt tiles) must not outlive the viewer
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  for (int i = 1; i + 1 < argc; ++i)  // (the parent may have ended before the prctl)
    if (std::strcmp(argv[i], "--parent") == 0 && ::getppid() != std::atoi(argv[i + 1]))
      return 1;
#endif
  // replies go to a private copy of stdout; anything a plugin prints goes to stderr
  g_out = ::dup(1);
  ::dup2(2, 1);
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--max-memory-mb") == 0) {
      rlimit lim;
      lim.rlim_cur = lim.rlim_max = static_cast<rlim_t>(std::atoll(argv[i + 1])) << 20;
      if (lim.rlim_cur > 0) ::setrlimit(RLIMIT_AS, &lim);
    }
  }
  g_notify = new KeepNotify;
  osg::setNotifyHandler(g_notify);
  osg::setNotifyLevel(osg::WARN);
  install_image_skippers();
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    bool ok = true;
    try {
      if (line == "V") {
        Buf p;
        p.u8(0);
        p.str("realscene-osgb-worker " + std::to_string(PROTOCOL) + " OpenSceneGraph " +
              osgGetVersion());
        ok = send(p);
      } else if (line.size() > 2 && (line[0] == 'P' || line[0] == 'S') && line[1] == ' ') {
        ok = answer(line[0], line.substr(2));
      } else {
        ok = send_error("request not understood");
      }
    } catch (const std::bad_alloc&) {
      ok = send_error("OpenSceneGraph ran out of memory reading it");
    } catch (const std::exception& e) {
      ok = send_error(std::string("OpenSceneGraph failed reading it: ") + e.what());
    } catch (...) {
      ok = send_error("OpenSceneGraph failed reading it");
    }
    if (!ok) return 1;
  }
  return 0;
}
