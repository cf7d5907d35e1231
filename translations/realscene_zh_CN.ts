<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name></name>
    <message>
        <location filename="../viewer/qt/annotations.py" line="30"/>
        <source>Pin</source>
        <extracomment>points after which a tool finishes by itself the tools&apos; names in status messages (QT_TR_NOOP sources)</extracomment>
        <translation>图钉</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="30"/>
        <source>Polyline</source>
        <translation>折线</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="31"/>
        <source>Polygon (area)</source>
        <translation>多边形（面积）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="31"/>
        <source>Box region</source>
        <translation>框选区域</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="32"/>
        <source>Distance</source>
        <translation>距离</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="33"/>
        <source>Horizontal distance</source>
        <translation>水平距离</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="34"/>
        <source>Vertical distance</source>
        <translation>垂直距离</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="35"/>
        <source>Height difference</source>
        <translation>高差</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="36"/>
        <source>Polyline length</source>
        <translation>折线长度</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="37"/>
        <source>Area (in plane)</source>
        <translation>面积（平面内）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="38"/>
        <source>Projected area</source>
        <translation>投影面积</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="38"/>
        <source>Angle</source>
        <translation>角度</translation>
    </message>
    <message>
        <location filename="../viewer/qt/loading.py" line="169"/>
        <source>opening</source>
        <extracomment>share of the progress bar for reading; the octree build takes the rest longest time the worker waits for the window to show the preview (see wait_preview) callable giving the scene CRS to transform the data into (None: keep it) level-of-detail source built for the loaded cloud (None: none / failed) the coarse preview cloud, once emitted set by a window that calls :meth:`preview_shown` once it drew the preview: the worker then pauses until that (at most PREVIEW_WAIT_S), so that the first frame does not compete for the GIL with the decoder (lazrs holds it while decoding) True when the layer streams from a COPC (local, URL, or an index of the file) the COPC index streamed instead of the file itself, if any follow HTTP redirects to other hosts (asked of the user when refused) the LoadError of a failed load (``failed`` carries its message) a CRS the user assigned to this file&apos;s layer (text), used instead of the file&apos;s files opened together: their order decides the scene CRS (see CrsOrder)</extracomment>
        <translation>正在打开</translation>
    </message>
    <message>
        <location filename="../viewer/qt/loading.py" line="216"/>
        <source>indexing</source>
        <translation>正在建立索引</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="30"/>
        <source>Auto</source>
        <extracomment>version of the saved dock layout (QSettings &quot;window_state&quot;): a state saved by an older layout (docks wider than the 3D view) is not restored (label, value) of the point budget choices; values are what QSettings stores</extracomment>
        <translation>自动</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="113"/>
        <source>Layers</source>
        <extracomment>False after close_without_asking() or once the window has closed the File menu&apos;s project actions (open, save, import, export, recover, recent) warnings about text in the 3D view no installed font can draw scale bar, north arrow, axis gizmo (View menu; scene.decorations)</extracomment>
        <translation>图层</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="116"/>
        <source>Properties</source>
        <translation>属性</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="119"/>
        <source>Annotations</source>
        <translation>标注</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="129"/>
        <source>Objects</source>
        <translation>对象</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="135"/>
        <source>Align</source>
        <translation>配准</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="146"/>
        <source>Measurements</source>
        <translation>测量</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="158"/>
        <source>Tours</source>
        <translation>导览</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="171"/>
        <source>Click a point to see its coordinates</source>
        <translation>点击一个点以查看其坐标</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="179"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="185"/>
        <source>Points drawn / points in the visible point layers</source>
        <translation>已绘制点数 / 可见点云图层中的点数</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="189"/>
        <source>The scene&apos;s coordinate system; click to change it or to show coordinates in a second one</source>
        <translation>场景坐标参考系；点击可更改，或在第二个坐标参考系中同时显示坐标</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="304"/>
        <source>&amp;Open…</source>
        <extracomment>a second CRS in which picked coordinates are also shown (None: none)</extracomment>
        <translation>打开(&amp;O)…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="307"/>
        <source>Open &amp;sample site</source>
        <translation>打开示例场地(&amp;S)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="308"/>
        <source>opening the sample site</source>
        <translation>打开示例场地</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="310"/>
        <source>Open &amp;URL…</source>
        <translation>打开 URL(&amp;U)…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="311"/>
        <source>Stream a COPC point cloud or a 3D Tiles tileset over HTTP(S)</source>
        <translation>通过 HTTP(S) 流式加载 COPC 点云或 3D Tiles 瓦片集</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="313"/>
        <source>&amp;Index to COPC…</source>
        <translation>建立 COPC 索引(&amp;I)…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="315"/>
        <source>Write a COPC copy of a LAS/LAZ so that it opens instantly next time</source>
        <translation>为 LAS/LAZ 写出 COPC 副本，下次即可立即打开</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="316"/>
        <source>Save &amp;screenshot…</source>
        <translation>保存截图(&amp;S)…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="319"/>
        <source>Export &amp;video…</source>
        <translation>导出视频(&amp;V)…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="320"/>
        <source>A turntable or a tour of the scene as an H.264 MP4 film</source>
        <translation>将场景的转台旋转或导览制作成 H.264 MP4 视频</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="322"/>
        <source>Export e&amp;xhibit…</source>
        <translation>导出展览(&amp;X)…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="323"/>
        <source>GLB with hotspots, 3D Tiles, a Voyager scene, an offline web page or IIIF for a museum kiosk or a tourism page</source>
        <translation>带热点的 GLB、3D Tiles、Voyager 场景、离线网页或 IIIF，用于博物馆触摸屏或旅游网页</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="325"/>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="327"/>
        <source>&amp;Fit all</source>
        <translation>全部显示(&amp;F)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="328"/>
        <source>Fit &amp;selection</source>
        <translation>显示所选(&amp;S)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="329"/>
        <source>&amp;Top</source>
        <translation>俯视(&amp;T)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="330"/>
        <source>F&amp;ront</source>
        <translation>前视(&amp;R)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="331"/>
        <source>S&amp;ide</source>
        <translation>侧视(&amp;I)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="332"/>
        <source>&amp;Isometric</source>
        <translation>等轴测(&amp;I)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="338"/>
        <source>&amp;Axis gizmo</source>
        <translation>坐标轴指示器(&amp;A)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="338"/>
        <source>X, Y, Z axes in a corner</source>
        <translation>在角落显示 X、Y、Z 轴</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="339"/>
        <source>Scale &amp;bar</source>
        <translation>比例尺(&amp;B)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="340"/>
        <source>A scale bar at the focal distance (metres, or units without a CRS)</source>
        <translation>焦点距离处的比例尺(米;无坐标系时为单位)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="342"/>
        <source>&amp;North arrow</source>
        <translation>指北针(&amp;N)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="343"/>
        <source>An arrow to grid north (georeferenced scenes)</source>
        <translation>指向坐标北的箭头(有地理参考的场景)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="344"/>
        <source>CRS and &amp;credits line</source>
        <translation>坐标系与数据来源行(&amp;C)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="345"/>
        <source>The coordinate system and the data&apos;s credits at the bottom (also in screenshots)</source>
        <translation>在底部显示坐标系和数据来源(截图中也显示)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="353"/>
        <source>&amp;Eye-dome lighting</source>
        <translation>EDL 眼罩光照(&amp;E)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="355"/>
        <source>Shade points by depth to show shape</source>
        <translation>按深度为点着阴影以显示形状</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="357"/>
        <source>Eye-dome lighting &amp;settings…</source>
        <translation>EDL 眼罩光照设置(&amp;S)…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="358"/>
        <source>Strength and radius of eye-dome lighting, with live preview</source>
        <translation>EDL 眼罩光照的强度和半径，实时预览</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="361"/>
        <source>Save &amp;view…</source>
        <translation>保存视图(&amp;V)…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="362"/>
        <source>Bookmark the current camera</source>
        <translation>将当前相机保存为书签</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="363"/>
        <source>&amp;Background colour…</source>
        <translation>背景颜色(&amp;B)…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="365"/>
        <source>&amp;About RealScene</source>
        <translation>关于 RealScene(&amp;A)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="366"/>
        <source>&amp;Undo</source>
        <translation>撤销(&amp;U)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="368"/>
        <source>&amp;Redo</source>
        <translation>重做(&amp;R)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="370"/>
        <source>Open &amp;project…</source>
        <translation>打开项目(&amp;P)…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="372"/>
        <source>Save project</source>
        <translation>保存项目</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="374"/>
        <source>Save project &amp;as…</source>
        <translation>项目另存为(&amp;A)…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="378"/>
        <source>&amp;Pin</source>
        <translation>图钉(&amp;P)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="378"/>
        <source>Poly&amp;line</source>
        <translation>折线(&amp;L)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="379"/>
        <source>Poly&amp;gon (area)</source>
        <translation>多边形（面积）(&amp;G)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="379"/>
        <source>&amp;Box region</source>
        <translation>框选区域(&amp;B)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="380"/>
        <source>&amp;Distance</source>
        <translation>距离(&amp;D)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="381"/>
        <source>&amp;Horizontal distance</source>
        <translation>水平距离(&amp;H)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="382"/>
        <source>&amp;Vertical distance</source>
        <translation>垂直距离(&amp;V)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="383"/>
        <source>Height &amp;difference</source>
        <translation>高差(&amp;D)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="384"/>
        <source>Polyline &amp;length</source>
        <translation>折线长度(&amp;L)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="385"/>
        <source>&amp;Area (in plane)</source>
        <translation>面积（平面内）(&amp;A)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="386"/>
        <source>&amp;Projected area</source>
        <translation>投影面积(&amp;P)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="386"/>
        <source>An&amp;gle</source>
        <translation>角度(&amp;G)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="396"/>
        <source>&amp;Move vertices</source>
        <translation>移动顶点(&amp;M)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="398"/>
        <source>Move a vertex of the selected annotation: click it, then click its new place</source>
        <translation>移动所选标注的顶点：先点击顶点，再点击其新位置</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="399"/>
        <source>&amp;Finish shape</source>
        <translation>完成形状(&amp;F)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="401"/>
        <source>&amp;Cancel tool</source>
        <translation>取消工具(&amp;C)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="408"/>
        <source>&amp;Preferences…</source>
        <translation>首选项(&amp;P)…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="409"/>
        <source>Default author of new annotations</source>
        <translation>新标注的默认记录人</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="411"/>
        <source>&amp;Keyboard shortcuts…</source>
        <translation>键盘快捷键(&amp;K)…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="418"/>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="430"/>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="435"/>
        <source>Saved &amp;views</source>
        <translation>已保存的视图(&amp;V)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="444"/>
        <source>&amp;Coordinate systems…</source>
        <translation>坐标参考系(&amp;C)…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="449"/>
        <source>&amp;Edit</source>
        <translation>编辑(&amp;E)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="454"/>
        <source>&amp;Annotate</source>
        <translation>标注(&amp;A)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="457"/>
        <source>&amp;Measure</source>
        <translation>测量(&amp;M)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="465"/>
        <source>&amp;Tours</source>
        <translation>漫游(&amp;T)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="474"/>
        <source>Annotation &amp;visibility</source>
        <translation>标注可见性(&amp;V)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="478"/>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="490"/>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="532"/>
        <source> Point budget </source>
        <translation> 点数预算 </translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="536"/>
        <source>Most points drawn at a time (Auto adapts to the measured frame time)</source>
        <translation>一次最多绘制的点数（“自动”根据实测帧时间调整）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="1321"/>
        <location filename="../viewer/qt/project_actions.py" line="424"/>
        <source>closing</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="24"/>
        <source>Select a city model or IFC layer</source>
        <translation>请选择一个城市模型或 IFC 图层</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="26"/>
        <source>id</source>
        <extracomment>the labels of an object&apos;s own fields in the properties tree (QT_TR_NOOP sources)</extracomment>
        <translation>编号</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="26"/>
        <source>type</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="26"/>
        <source>name</source>
        <translation>名称</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="27"/>
        <source>storey</source>
        <translation>楼层</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="27"/>
        <source>parent</source>
        <translation>上级</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="28"/>
        <source>LODs</source>
        <translation>细节层次</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="28"/>
        <source>centre</source>
        <translation>中心</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="29"/>
        <source>Attributes</source>
        <translation>属性</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="17"/>
        <source>RGB colour</source>
        <translation>RGB 颜色</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="18"/>
        <source>Intensity</source>
        <translation>强度</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="19"/>
        <source>Classification (ASPRS)</source>
        <translation>分类（ASPRS）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="20"/>
        <source>Elevation</source>
        <translation>高程</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="21"/>
        <source>Attribute…</source>
        <translation>属性…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="22"/>
        <source>Single colour</source>
        <translation>单一颜色</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="23"/>
        <source>Materials / textures</source>
        <translation>材质 / 纹理</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="24"/>
        <source>Vertex colours</source>
        <translation>顶点颜色</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="25"/>
        <source>Semantic surfaces</source>
        <translation>语义面</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="26"/>
        <source>Object type</source>
        <translation>对象类型</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="27"/>
        <source>Hillshade</source>
        <translation>山体阴影</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="28"/>
        <source>Texture</source>
        <translation>纹理</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="33"/>
        <source>Y (glTF standard)</source>
        <extracomment>the colour maps offered; rdbu_r and coolwarm are diverging (symmetric about zero: change) the up-axis choice of a glTF layer: (value, label)</extracomment>
        <translation>Y（glTF 标准）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="34"/>
        <source>Z (stored against the standard)</source>
        <translation>Z（未按标准存储）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="36"/>
        <source>Y (turn it upright)</source>
        <extracomment>the same choice for any other mesh or point layer without a CRS</extracomment>
        <translation>Y（竖直放正）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="37"/>
        <source>Z (as stored)</source>
        <translation>Z（按存储方向）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="39"/>
        <source>none (units)</source>
        <extracomment>a layer&apos;s length units (viewer.units): (value, label); None: no units</extracomment>
        <translation>无（单位）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="39"/>
        <source>millimetres (mm)</source>
        <translation>毫米 (mm)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="40"/>
        <source>centimetres (cm)</source>
        <translation>厘米 (cm)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="40"/>
        <source>metres (m)</source>
        <translation>米 (m)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="41"/>
        <source>feet (ft)</source>
        <translation>英尺 (ft)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="581"/>
        <source>a tileset streamed by level of detail: only the tiles the view needs are loaded</source>
        <translation>按细节层次流式加载的瓦片集：只加载视图需要的瓦片</translation>
    </message>
    <message>
        <location filename="../viewer/qt/crs.py" line="37"/>
        <source>none recorded in the file</source>
        <extracomment>second systems offered in the dialog besides the layers&apos; own</extracomment>
        <translation>文件中未记录</translation>
    </message>
    <message>
        <location filename="../viewer/qt/crs.py" line="42"/>
        <source>no EPSG code</source>
        <translation>无 EPSG 代码</translation>
    </message>
    <message>
        <location filename="../viewer/qt/crs.py" line="45"/>
        <source>; heights in {units}</source>
        <translation>；高程单位 {units}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/crs.py" line="47"/>
        <source>geographic (degrees)</source>
        <translation>地理坐标（度）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/crs.py" line="48"/>
        <source>units: {units}</source>
        <translation>单位：{units}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="587"/>
        <source>{total} points (streamed; class counts and ranges below from the {n} of the top levels)</source>
        <translation>{total} 个点（流式加载；以下分类计数和取值范围来自顶层的 {n} 个点）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="590"/>
        <location filename="../viewer/qt/panels.py" line="601"/>
        <source>{n} points</source>
        <translation>{n} 个点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="592"/>
        <source>, point format {n}</source>
        <translation>，点格式 {n}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="595"/>
        <source>attributes: {names}</source>
        <translation>属性：{names}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="597"/>
        <source>{v} vertices, {t} triangles</source>
        <translation>{v} 个顶点，{t} 个三角形</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="603"/>
        <source>{n} line segments</source>
        <translation>{n} 条线段</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="607"/>
        <source>{n} parts</source>
        <translation>{n} 个部件</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="40"/>
        <source>W3C Web Annotation (*.jsonld)</source>
        <extracomment>size of the annotation views rendered into condition reports</extracomment>
        <translation>W3C Web 标注 (*.jsonld)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="41"/>
        <source>GeoJSON (*.geojson)</source>
        <translation>GeoJSON (*.geojson)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="42"/>
        <source>CSV table (*.csv)</source>
        <translation>CSV 表格 (*.csv)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="43"/>
        <source>Condition report (*.html *.pdf)</source>
        <translation>状况报告 (*.html *.pdf)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="93"/>
        <source>&amp;New project</source>
        <extracomment>the saved view the project just opened will show once its first layer is drawn (None: fit the data) the open &quot;file in another CRS&quot; question, if any (``crsFitDialog``)</extracomment>
        <translation>新建项目(&amp;N)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="97"/>
        <source>&amp;Close project</source>
        <translation>关闭项目(&amp;C)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="101"/>
        <source>Open &amp;folder…</source>
        <translation>打开文件夹(&amp;F)…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="103"/>
        <source>A tileset folder: OSGB oblique photogrammetry (metadata.xml and Data/) or a 3D Tiles folder (tileset.json)</source>
        <translation>瓦片集文件夹：OSGB 倾斜摄影（metadata.xml 与 Data/）或 3D Tiles 文件夹（tileset.json）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="114"/>
        <source>&amp;Import annotations…</source>
        <translation>导入标注(&amp;I)…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="116"/>
        <source>&amp;Export annotations / report…</source>
        <translation>导出标注 / 报告(&amp;E)…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="119"/>
        <source>Open &amp;recent</source>
        <translation>最近打开(&amp;R)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="189"/>
        <location filename="../viewer/qt/project_actions.py" line="340"/>
        <source>opening another project</source>
        <translation>打开另一个项目</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="197"/>
        <source>starting a new project</source>
        <translation>新建项目</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="206"/>
        <source>closing the project</source>
        <translation>关闭项目</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="245"/>
        <source>{name} is in {file_crs}; the scene is in {scene_crs}.</source>
        <translation>{name} 的坐标系为 {file_crs}；场景的坐标系为 {scene_crs}。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="246"/>
        <source>Add anyway (reproject)</source>
        <translation>仍然添加（重新投影）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="248"/>
        <source>{name} has no coordinate system and no units; the scene is in {scene_crs}.</source>
        <translation>{name} 没有坐标系，也没有单位；场景的坐标系为 {scene_crs}。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="250"/>
        <location filename="../viewer/qt/project_actions.py" line="254"/>
        <source>Add anyway (place at the scene&apos;s centre)</source>
        <translation>仍然添加（放在场景中心）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="252"/>
        <source>{name} is in {file_crs}; the scene has local coordinates (no coordinate system).</source>
        <translation>{name} 的坐标系为 {file_crs}；场景使用局部坐标（没有坐标系）。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="256"/>
        <source>Another coordinate system</source>
        <translation>坐标系不同</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="260"/>
        <source>Add it to this project anyway, open it in a new project, or cancel?</source>
        <translation>仍然添加到此项目、在新项目中打开，还是取消？</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="264"/>
        <source>Open in a new project</source>
        <translation>在新项目中打开</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="291"/>
        <source>opening the file in a new project</source>
        <translation>在新项目中打开该文件</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="30"/>
        <source>done</source>
        <extracomment>language code -&gt; its own name (shown in View &gt; Language, never translated) the .qm basename of RealScene&apos;s catalogue for each language (&quot;en&quot;: none, the source) the readers&apos; fixed progress words (the core stays English): the window&apos;s progress line shows them through translate(&quot;&quot;, message)</extracomment>
        <translation>完成</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="30"/>
        <source>triangulating</source>
        <translation>正在三角化</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="30"/>
        <source>reading OBJ</source>
        <translation>正在读取 OBJ</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="31"/>
        <source>reading IFC header</source>
        <translation>正在读取 IFC 文件头</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="31"/>
        <source>generating IFC geometry</source>
        <translation>正在生成 IFC 几何</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="32"/>
        <source>building mesh</source>
        <translation>正在构建网格</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="32"/>
        <source>building level of detail: reordering</source>
        <translation>正在构建细节层次：重新排序</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="33"/>
        <source>Reading LAS header</source>
        <translation>正在读取 LAS 文件头</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="33"/>
        <source>reprojected</source>
        <translation>已重投影</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="33"/>
        <source>reading glTF</source>
        <translation>正在读取 glTF</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="34"/>
        <source>reading city objects</source>
        <translation>正在读取城市对象</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="34"/>
        <source>reading STL</source>
        <translation>正在读取 STL</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="34"/>
        <source>reading OFF</source>
        <translation>正在读取 OFF</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="35"/>
        <source>reading OFF faces</source>
        <translation>正在读取 OFF 面</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="35"/>
        <source>reading CityJSON</source>
        <translation>正在读取 CityJSON</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="35"/>
        <source>parsing IFC</source>
        <translation>正在解析 IFC</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="36"/>
        <source>merging STL vertices</source>
        <translation>正在合并 STL 顶点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="36"/>
        <source>level of detail ready</source>
        <translation>细节层次已就绪</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="37"/>
        <source>building the model</source>
        <translation>正在构建模型</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="37"/>
        <source>building the IFC model tree</source>
        <translation>正在构建 IFC 模型树</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="38"/>
        <source>building level of detail: sorting</source>
        <translation>正在构建细节层次：排序</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="39"/>
        <source>building level of detail: levels</source>
        <translation>正在构建细节层次：分级</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="39"/>
        <source>building level of detail</source>
        <translation>正在构建细节层次</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="40"/>
        <source>assembling the IFC mesh</source>
        <translation>正在组装 IFC 网格</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="40"/>
        <source>Reading the top level</source>
        <translation>正在读取顶层</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="41"/>
        <source>Reading the COPC hierarchy</source>
        <translation>正在读取 COPC 层级结构</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="41"/>
        <source>Reading the COPC header</source>
        <translation>正在读取 COPC 文件头</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="42"/>
        <source>Reading text point cloud</source>
        <translation>正在读取文本点云</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="42"/>
        <source>Reading PLY header</source>
        <translation>正在读取 PLY 文件头</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="43"/>
        <source>Opening E57 file</source>
        <translation>正在打开 E57 文件</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="43"/>
        <source>Checking the COPC file</source>
        <translation>正在检查 COPC 文件</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="44"/>
        <source>COPC ready</source>
        <translation>COPC 已就绪</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="44"/>
        <source>Building the octree</source>
        <translation>正在构建八叉树</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="45"/>
        <source>Building level of detail</source>
        <translation>正在构建细节层次</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="45"/>
        <source>Building geometry</source>
        <translation>正在构建几何</translation>
    </message>
    <message>
        <location filename="../viewer/qt/i18n.py" line="46"/>
        <source>Already COPC</source>
        <translation>已是 COPC</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="35"/>
        <source>GLB model with hotspots (one file)</source>
        <extracomment>the formats as the dialog names them (translated when shown)</extracomment>
        <translation>带热点的 GLB 模型（单个文件）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="36"/>
        <source>3D Tiles 1.1 (folder)</source>
        <translation>3D Tiles 1.1（文件夹）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="37"/>
        <source>Smithsonian Voyager scene (folder)</source>
        <translation>Smithsonian Voyager 场景（文件夹）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="38"/>
        <source>Offline web exhibit (folder)</source>
        <translation>离线网页展览（文件夹）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="39"/>
        <source>IIIF Presentation 3 manifest (one file)</source>
        <translation>IIIF Presentation 3 清单（单个文件）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="37"/>
        <location filename="../viewer/qt/media_dialogs.py" line="43"/>
        <source>Window size ({w}×{h})</source>
        <extracomment>size presets of videos (even sizes: H.264)</extracomment>
        <translation>窗口尺寸（{w}×{h}）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="38"/>
        <location filename="../viewer/qt/media_dialogs.py" line="45"/>
        <source>Full HD 1920×1080</source>
        <translation>全高清 1920×1080</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="39"/>
        <location filename="../viewer/qt/media_dialogs.py" line="46"/>
        <source>4K 3840×2160</source>
        <translation>4K 3840×2160</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="40"/>
        <source>8K 7680×4320</source>
        <translation>8K 7680×4320</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="41"/>
        <location filename="../viewer/qt/media_dialogs.py" line="47"/>
        <source>Custom size</source>
        <translation>自定义尺寸</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="44"/>
        <source>HD 1280×720</source>
        <translation>高清 1280×720</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="331"/>
        <source>Clip</source>
        <translation>裁剪</translation>
    </message>
    <message>
        <location filename="../viewer/qt/jobs.py" line="181"/>
        <source>&amp;Tools</source>
        <translation>工具(&amp;T)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="339"/>
        <source>C&amp;lip…</source>
        <translation>裁剪(&amp;L)…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="340"/>
        <source>Clip every layer by a box, a polygon or a slab</source>
        <translation>用长方体、多边形或切片裁剪所有图层</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="343"/>
        <source>Export clipped &amp;points…</source>
        <translation>导出裁剪的点(&amp;P)…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="344"/>
        <source>Write the selected point layer&apos;s file inside the clip</source>
        <translation>将所选点云图层文件中裁剪区域内的点写出</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="186"/>
        <source>&amp;Compare epochs…</source>
        <translation>比较测量期次(&amp;C)…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="187"/>
        <source>Change between two scans: C2C or M3C2 distances on epoch B</source>
        <translation>两次扫描之间的变化：在期次 B 上计算 C2C 或 M3C2 距离</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="190"/>
        <source>Export with &amp;change…</source>
        <translation>导出含变化量的点云(&amp;C)…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="191"/>
        <source>Write the selected layer&apos;s file with its change distances</source>
        <translation>将所选图层的文件连同其变化距离一起写出</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="198"/>
        <source>Change</source>
        <translation>变化</translation>
    </message>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="139"/>
        <source>Scan vs &amp;model…</source>
        <translation>扫描与模型比较(&amp;M)…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="140"/>
        <source>Distance of a scan&apos;s points to a mesh, city or IFC model, per object</source>
        <translation>扫描点到网格、城市模型或 IFC 模型的距离，按对象统计</translation>
    </message>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="207"/>
        <source>Object</source>
        <extracomment>the Deviation list&apos;s columns: header (QT_TR_NOOP source) and the per-object key</extracomment>
        <translation>对象</translation>
    </message>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="208"/>
        <source>Points</source>
        <translation>点数</translation>
    </message>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="209"/>
        <source>Mean (m)</source>
        <translation>平均值（米）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="209"/>
        <source>Mean |d| (m)</source>
        <translation>平均 |d|（米）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="210"/>
        <source>Max |d| (m)</source>
        <translation>最大 |d|（米）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="210"/>
        <source>RMS (m)</source>
        <translation>均方根（米）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="211"/>
        <source>Beyond tolerance</source>
        <translation>超出容差</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="320"/>
        <source>&amp;Profile…</source>
        <translation>剖面(&amp;P)…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="321"/>
        <source>A 2D cross-section of the points and models along a line, with measurements</source>
        <translation>沿一条线的点云与模型二维剖面，可在其上量测</translation>
    </message>
</context>
<context>
    <name>AlignmentPanel</name>
    <message>
        <location filename="../viewer/qt/alignment.py" line="60"/>
        <source>The layer to move</source>
        <extracomment>pairs: (source in the moved layer&apos;s file coordinates, target true coordinates)</extracomment>
        <translation>要移动的图层</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="62"/>
        <source>The layer it is aligned to</source>
        <translation>作为配准参照的图层</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="63"/>
        <source>Layer</source>
        <translation>图层</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="64"/>
        <source>Reference</source>
        <translation>参照</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="68"/>
        <source>By values</source>
        <translation>按数值</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="74"/>
        <source>Translate (m)</source>
        <translation>平移（米）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="75"/>
        <source>Rotate (°)</source>
        <translation>旋转（°）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="81"/>
        <source>Scale</source>
        <translation>缩放</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="87"/>
        <source>Apply</source>
        <translation>应用</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="89"/>
        <source>Reset</source>
        <translation>重置</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="90"/>
        <source>Back to the file&apos;s own coordinates (identity)</source>
        <translation>恢复为文件自身的坐标（恒等变换）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="97"/>
        <source>By point pairs</source>
        <translation>按同名点对</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="100"/>
        <source>Pick pairs</source>
        <translation>拾取点对</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="103"/>
        <source>Click a point on the layer, then the same point on the reference; repeat (at least 3 pairs)</source>
        <translation>先点击图层上的一个点，再点击参照上的同一点；重复（至少 3 对）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="105"/>
        <source>Allow scale</source>
        <translation>允许缩放</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="112"/>
        <source>Source XYZ</source>
        <translation>源 XYZ</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="112"/>
        <source>Target XYZ</source>
        <translation>目标 XYZ</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="113"/>
        <source>Residual (m)</source>
        <translation>残差（米）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="120"/>
        <source>Remove pair</source>
        <translation>删除点对</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="122"/>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="123"/>
        <source>Apply fit</source>
        <translation>应用拟合</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="130"/>
        <source>Add at least 3 point pairs</source>
        <translation>请至少添加 3 个点对</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="137"/>
        <location filename="../viewer/qt/alignment.py" line="140"/>
        <source>Refine by ICP</source>
        <translation>ICP 精配准</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="142"/>
        <source>Move the layer onto the reference by ICP, starting from its current alignment</source>
        <translation>从当前对齐位置起，用 ICP 将图层配准到参考图层</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="144"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="277"/>
        <source>Pivot (layer centre): {xyz}</source>
        <extracomment>the running ICP job (None: none) the last ICP result (heritage.monitoring.register.Registration)</extracomment>
        <translation>旋转中心（图层中心）：{xyz}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="282"/>
        <source>The current transform cannot be shown as values: {error}</source>
        <translation>当前变换无法用数值表示：{error}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="306"/>
        <location filename="../viewer/qt/alignment.py" line="400"/>
        <source>Open a layer to align first</source>
        <translation>请先打开要配准的图层</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="313"/>
        <source>Moved {name}</source>
        <translation>已移动 {name}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="320"/>
        <source>Reset the transform of {name}</source>
        <translation>已重置 {name} 的变换</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="369"/>
        <source>RMS {rms} m over {n} pairs</source>
        <translation>{n} 个点对的 RMS 为 {rms} 米</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="373"/>
        <source>Add {n} more point pairs</source>
        <translation>还需添加 {n} 个点对</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="374"/>
        <source>Add 1 more point pair</source>
        <translation>还需添加 1 个点对</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="389"/>
        <source>Add at least 3 point pairs before applying a fit</source>
        <translation>应用拟合前请至少添加 3 个点对</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="391"/>
        <source>Aligned {name}</source>
        <translation>已配准 {name}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="402"/>
        <source>Click a point on {name}</source>
        <translation>请点击 {name} 上的一个点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="415"/>
        <source>Click a point on {name} (the layer to move) first</source>
        <translation>请先点击 {name}（要移动的图层）上的一个点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="419"/>
        <source>the reference</source>
        <translation>参照</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="420"/>
        <source>Now click the same point on {name}</source>
        <translation>现在请点击 {name} 上的同一点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="423"/>
        <source>Click the matching point on {name} (the reference)</source>
        <translation>请点击 {name}（参照）上的对应点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="427"/>
        <source>Click the matching point on another layer</source>
        <translation>请点击另一图层上的对应点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="431"/>
        <source>Pair {n} added; click a point on {name}</source>
        <translation>已添加第 {n} 个点对；请点击 {name} 上的一个点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="441"/>
        <source>Choose a layer and another layer as reference</source>
        <translation>请选择一个图层，并选择另一个图层作为参考</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="444"/>
        <source>ICP aligns a point cloud onto a point cloud</source>
        <translation>ICP 只能将点云配准到点云</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="460"/>
        <source>Refining {name} by ICP…</source>
        <translation>正在用 ICP 精配准 {name}…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="483"/>
        <source>Refined {name} by ICP</source>
        <translation>已用 ICP 精配准 {name}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="484"/>
        <source>RMSE {rmse} m, overlap {overlap} %, {n} iterations</source>
        <translation>均方根误差 {rmse} 米，重叠 {overlap} %，迭代 {n} 次</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="488"/>
        <source>Little overlap: align by point pairs first</source>
        <translation>重叠太少：请先用点对粗配准</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="493"/>
        <source>ICP failed: {error}</source>
        <translation>ICP 失败：{error}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/alignment.py" line="497"/>
        <source>ICP cancelled; the layer was not moved</source>
        <translation>ICP 已取消；图层未移动</translation>
    </message>
</context>
<context>
    <name>AnnotationTool</name>
    <message>
        <location filename="../viewer/qt/annotations.py" line="79"/>
        <source>click {n} points</source>
        <translation>点击 {n} 个点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="80"/>
        <source>click 1 point</source>
        <translation>点击 1 个点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="80"/>
        <source>click points, Enter to finish</source>
        <translation>点击多个点，按 Enter 完成</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="81"/>
        <source>{tool}: {how}; Esc cancels</source>
        <translation>{tool}：{how}；按 Esc 取消</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="108"/>
        <source>Select an annotation to edit first</source>
        <translation>请先选择要编辑的标注</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="115"/>
        <source>Move vertex: click the vertex to move, then click where it goes; Esc ends</source>
        <translation>移动顶点：点击要移动的顶点，再点击目标位置；按 Esc 结束</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="135"/>
        <source>Vertex {n} of “{title}”: now click its new place</source>
        <translation>“{title}”的第 {n} 个顶点：现在请点击其新位置</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="150"/>
        <source>Vertex moved (Ctrl+Z undoes); click another vertex, or Esc</source>
        <translation>顶点已移动（Ctrl+Z 撤销）；可点击另一个顶点，或按 Esc</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="168"/>
        <source>{tool} needs at least {n} points</source>
        <translation>{tool}至少需要 {n} 个点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="182"/>
        <source>Annotation {n}</source>
        <translation>标注 {n}</translation>
    </message>
</context>
<context>
    <name>AnnotationsPanel</name>
    <message>
        <location filename="../viewer/qt/annotations.py" line="211"/>
        <source>Search annotations…</source>
        <translation>搜索标注…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="215"/>
        <source>author</source>
        <translation>作者</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="217"/>
        <source>since YYYY-MM-DD</source>
        <translation>起始日期 YYYY-MM-DD</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="228"/>
        <source>tag; tag</source>
        <translation>标签; 标签</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="232"/>
        <source>Add a category to this project&apos;s vocabulary</source>
        <translation>向本项目的词表添加类别</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="234"/>
        <location filename="../viewer/qt/annotations.py" line="651"/>
        <source>Category colour</source>
        <translation>类别颜色</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="236"/>
        <source>Colour of this annotation in the view (click to change)</source>
        <translation>此标注在视图中的颜色（点击更改）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="239"/>
        <source>Back to the category&apos;s colour</source>
        <translation>恢复为类别颜色</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="240"/>
        <source>shown</source>
        <translation>显示</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="245"/>
        <source>Add…</source>
        <translation>添加…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="247"/>
        <source>Remove</source>
        <translation>删除</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="248"/>
        <source>Open</source>
        <translation>打开</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="250"/>
        <source>Layer of the linked object</source>
        <translation>所链接对象的图层</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="253"/>
        <source>object id (IFC GlobalId, CityJSON id)</source>
        <translation>对象编号（IFC GlobalId、CityJSON id）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="254"/>
        <source>Apply</source>
        <translation>应用</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="255"/>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="256"/>
        <source>Fly to</source>
        <translation>飞至</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="266"/>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="267"/>
        <source>Description</source>
        <translation>描述</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="271"/>
        <source>Category</source>
        <translation>类别</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="272"/>
        <source>Condition</source>
        <translation>完损状况</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="273"/>
        <source>Observed</source>
        <translation>观测日期</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="274"/>
        <source>Author</source>
        <translation>作者</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="275"/>
        <source>Tags</source>
        <translation>标签</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="280"/>
        <source>Style</source>
        <translation>样式</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="289"/>
        <source>Media</source>
        <translation>媒体</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="290"/>
        <source>Object layer</source>
        <translation>对象图层</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="291"/>
        <source>Object id</source>
        <translation>对象编号</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="298"/>
        <source>Record</source>
        <translation>记录</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="299"/>
        <source>Style, media, object</source>
        <translation>样式、媒体、对象</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="317"/>
        <source>Select an annotation to edit it, or add one with a tool of the Annotate toolbar.</source>
        <translation>选择一条标注以编辑，或用“标注”工具栏中的工具新建。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="360"/>
        <source>From change…</source>
        <translation>从变化提议…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="362"/>
        <source>Propose one annotation per cluster of significant change, from a point cloud written by Compare (M3C2, or C2C with a threshold)</source>
        <translation>按显著变化的每个聚类提议一条标注，来源为“比较”写出的点云（M3C2，或带阈值的 C2C）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="368"/>
        <source>Accept</source>
        <translation>接受</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="370"/>
        <source>Reject</source>
        <translation>拒绝</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="372"/>
        <source>Accept all</source>
        <translation>全部接受</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="425"/>
        <source>Proposed from change: {n}</source>
        <translation>由变化提议：{n}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="451"/>
        <source>Propose annotations from change</source>
        <translation>从变化提议标注</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="453"/>
        <source>Compared point clouds (*.laz *.las);;All files (*)</source>
        <translation>比较结果点云 (*.laz *.las);;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="468"/>
        <source>Change threshold</source>
        <translation>变化阈值</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="469"/>
        <source>C2C distances carry no significance: count a change as significant beyond (m):</source>
        <translation>C2C 距离没有显著性：超过多少米的变化视为显著（米）：</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="472"/>
        <source>Cannot propose</source>
        <translation>无法提议</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="474"/>
        <source>{n} annotations proposed from change: accept or reject them under the list</source>
        <translation>已从变化提议 {n} 条标注：请在列表下方接受或拒绝</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="492"/>
        <source>All categories</source>
        <translation>全部类别</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="502"/>
        <source>All conditions</source>
        <translation>全部完损状况</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="606"/>
        <source>file not found</source>
        <translation>找不到文件</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="632"/>
        <source>Cannot apply</source>
        <translation>无法应用</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="662"/>
        <source>Annotation colour</source>
        <translation>标注颜色</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="669"/>
        <source>Add category</source>
        <translation>添加类别</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="670"/>
        <source>Name of the new category (e.g. Salt efflorescence):</source>
        <translation>新类别的名称（例如：盐析）：</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="674"/>
        <source>Colour for {name}</source>
        <translation>{name} 的颜色</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="681"/>
        <source>Cannot add category</source>
        <translation>无法添加类别</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="694"/>
        <source>Link photos or documents</source>
        <translation>链接照片或文档</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="696"/>
        <source>Images (*.jpg *.jpeg *.png *.tif *.tiff *.webp);;All files (*)</source>
        <translation>图像 (*.jpg *.jpeg *.png *.tif *.tiff *.webp);;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="725"/>
        <source> Relink it with Add….</source>
        <translation>请用“添加…”重新链接。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/annotations.py" line="726"/>
        <source>Not opened: {path} {reason}.</source>
        <translation>未打开：{path} {reason}。</translation>
    </message>
</context>
<context>
    <name>AssignCrsDialog</name>
    <message>
        <location filename="../viewer/qt/crs.py" line="182"/>
        <source>Assign a coordinate system</source>
        <extracomment>how many CRSs assigned before are offered first</extracomment>
        <translation>指定坐标参考系</translation>
    </message>
    <message>
        <location filename="../viewer/qt/crs.py" line="187"/>
        <source>The coordinates of “{0}” are taken to be in the system chosen here (now: {1}); the layer is read again and transformed into the scene CRS.</source>
        <translation>“{0}”的坐标将被视为此处所选的坐标参考系（当前：{1}）；图层将重新读取并转换到场景坐标参考系。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/crs.py" line="192"/>
        <source>Search: 4547, CGCS2000, 高斯, UTM 50N …</source>
        <translation>搜索：4547、CGCS2000、高斯、UTM 50N …</translation>
    </message>
    <message>
        <location filename="../viewer/qt/crs.py" line="198"/>
        <source>Or a custom system (a local city grid): a PROJ string or WKT</source>
        <translation>或自定义坐标系（地方城市坐标系）：PROJ 字符串或 WKT</translation>
    </message>
    <message>
        <location filename="../viewer/qt/crs.py" line="247"/>
        <source>Choose a system from the list or type one.</source>
        <translation>请从列表中选择或输入一个坐标参考系。</translation>
    </message>
</context>
<context>
    <name>ChangeTools</name>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="221"/>
        <source>{name} streams over the network: save it as a file first</source>
        <translation>{name} 通过网络流式加载：请先将其保存为文件</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="225"/>
        <source>Epoch B streams: write the change to</source>
        <translation>期次 B 为流式加载：将变化写入</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="228"/>
        <location filename="../viewer/qt/compare_dialog.py" line="288"/>
        <source>LAZ/LAS point clouds (*.laz *.las)</source>
        <translation>LAZ/LAS 点云 (*.laz *.las)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="240"/>
        <source>Comparing: {message} {percent}</source>
        <translation>正在比较：{message} {percent}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="246"/>
        <source>Wrote {path}; opening it</source>
        <translation>已写出 {path}，正在打开</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="255"/>
        <source>{b} compared with {a}: mean {mean:.4f} m, median {median:.4f} m, 95% of |d| below {p95:.4f} m</source>
        <translation>{b} 与 {a} 比较：均值 {mean:.4f} 米，中位数 {median:.4f} 米，95% 的 |d| 小于 {p95:.4f} 米</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="268"/>
        <source>Comparison cancelled; nothing changed</source>
        <translation>比较已取消，未做任何更改</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="271"/>
        <source>Cannot compare</source>
        <translation>无法比较</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="280"/>
        <source>Select a layer compared with an epoch (Tools &gt; Compare epochs…) first.</source>
        <translation>请先选择一个已与某期次比较过的图层（工具 &gt; 比较测量期次…）。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="286"/>
        <source>Export with change</source>
        <translation>导出含变化量的点云</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="297"/>
        <source>Exported {path}</source>
        <translation>已导出 {path}</translation>
    </message>
</context>
<context>
    <name>ClipExportJob</name>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="305"/>
        <source>Clipping {name}…</source>
        <translation>正在裁剪 {name}…</translation>
    </message>
</context>
<context>
    <name>ClipPanel</name>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="45"/>
        <source>Box</source>
        <extracomment>&quot;polygon&quot; / &quot;slab&quot; while clicks in the view are taken as the region&apos;s points</extracomment>
        <translation>长方体</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="46"/>
        <source>Polygon</source>
        <translation>多边形</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="47"/>
        <source>Slab (section)</source>
        <translation>切片（剖面）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="56"/>
        <source>{axis} min</source>
        <translation>{axis} 最小</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="57"/>
        <source>{axis} max</source>
        <translation>{axis} 最大</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="67"/>
        <source>From view</source>
        <translation>取自视图</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="69"/>
        <source>The bounds of the visible layers</source>
        <translation>可见图层的范围</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="71"/>
        <source>From layer</source>
        <translation>取自图层</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="73"/>
        <source>The bounds of the selected layer</source>
        <translation>所选图层的范围</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="85"/>
        <source>From selected annotation</source>
        <translation>取自所选标注</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="87"/>
        <source>A polygon or box annotation selected in the Annotations panel</source>
        <translation>在标注面板中选中的多边形或长方体标注</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="89"/>
        <source>Draw in the view</source>
        <translation>在视图中绘制</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="91"/>
        <source>Click the polygon&apos;s corners in the 3D view, then Apply</source>
        <translation>在三维视图中点击多边形的各个角点，然后点“应用”</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="102"/>
        <source>Pick two points</source>
        <translation>拾取两个点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="104"/>
        <source>A vertical section through two points clicked in the 3D view</source>
        <translation>经过在三维视图中点击的两点的竖直剖面</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="114"/>
        <source>Thickness</source>
        <translation>厚度</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="120"/>
        <source>Inside</source>
        <translation>内部</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="122"/>
        <source>Outside</source>
        <translation>外部</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="127"/>
        <source>Apply</source>
        <translation>应用</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="129"/>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="130"/>
        <source>Draw every layer whole again</source>
        <translation>重新完整显示所有图层</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="135"/>
        <source>Export clipped points…</source>
        <translation>导出裁剪的点…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="138"/>
        <source>Write the selected point layer&apos;s LAS/LAZ/COPC file inside the clip, at full resolution</source>
        <translation>以全分辨率写出所选点云图层的 LAS/LAZ/COPC 文件中裁剪区域内的点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="170"/>
        <source>Nothing is visible to take bounds from.</source>
        <translation>没有可见内容可取范围。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="181"/>
        <source>Select a layer first.</source>
        <translation>请先选择一个图层。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="190"/>
        <source>Select a polygon or box annotation first.</source>
        <translation>请先选择一个多边形或长方体标注。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="195"/>
        <source>Only a polygon or box annotation can clip.</source>
        <translation>只有多边形或长方体标注可以用于裁剪。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="215"/>
        <source>Take a polygon from an annotation or draw one (three corners at least).</source>
        <translation>请从标注取多边形或绘制一个（至少三个角点）。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="219"/>
        <source>Pick two points for the section first.</source>
        <translation>请先为剖面拾取两个点。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="247"/>
        <source>No clip: every layer is drawn whole.</source>
        <translation>未裁剪：所有图层完整显示。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="249"/>
        <source>inside</source>
        <translation>内部</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="249"/>
        <source>outside</source>
        <translation>外部</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="250"/>
        <source>box</source>
        <translation>长方体</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="250"/>
        <source>polygon</source>
        <translation>多边形</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="251"/>
        <source>slab</source>
        <translation>切片</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="252"/>
        <source>Clipped: {side} the {kind}.</source>
        <translation>已裁剪：显示{kind}{side}。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="267"/>
        <source>Click the corners in the view, then Apply.</source>
        <translation>在视图中点击各个角点，然后点“应用”。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="269"/>
        <source>Click two points in the view.</source>
        <translation>在视图中点击两个点。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="285"/>
        <source>{n} corner(s); Apply when done.</source>
        <translation>已有 {n} 个角点；完成后点“应用”。</translation>
    </message>
</context>
<context>
    <name>ClipTools</name>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="365"/>
        <source>Clip the view first (a box, a polygon or a slab), then export.</source>
        <translation>请先裁剪视图（长方体、多边形或切片），再导出。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="369"/>
        <source>Select a point layer to export.</source>
        <translation>请选择要导出的点云图层。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="379"/>
        <source>Export clipped points</source>
        <translation>导出裁剪的点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="381"/>
        <source>Point clouds (*.laz *.las *.copc.laz)</source>
        <translation>点云 (*.laz *.las *.copc.laz)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="394"/>
        <source>Clipping {name}: {percent}</source>
        <translation>正在裁剪 {name}：{percent}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="398"/>
        <source>Wrote {count} of {total} points to {path}</source>
        <translation>已将 {total} 个点中的 {count} 个写入 {path}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="408"/>
        <source>Clip export cancelled; nothing written</source>
        <translation>裁剪导出已取消；未写出任何文件</translation>
    </message>
    <message>
        <location filename="../viewer/qt/clip_panel.py" line="412"/>
        <source>Cannot export the clip</source>
        <translation>无法导出裁剪结果</translation>
    </message>
</context>
<context>
    <name>CompareDialog</name>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="36"/>
        <source>Compare epochs</source>
        <translation>比较测量期次</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="46"/>
        <source>Cloud to cloud (C2C)</source>
        <translation>点云到点云 (C2C)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="47"/>
        <source>M3C2 with level of detection</source>
        <translation>M3C2（含检测限）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="50"/>
        <source>None (nearest neighbour)</source>
        <translation>无（最近邻）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="51"/>
        <source>Plane</source>
        <translation>平面</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="52"/>
        <source>Quadric</source>
        <translation>二次曲面</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="53"/>
        <source>Signed (above A positive)</source>
        <translation>带符号（高于 A 为正）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="62"/>
        <source>every point</source>
        <translation>每个点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="64"/>
        <source>Show significant change only</source>
        <translation>仅显示显著变化</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="65"/>
        <source>C2C</source>
        <translation>C2C</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="67"/>
        <source>Local model</source>
        <translation>局部模型</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="69"/>
        <source>M3C2</source>
        <translation>M3C2</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="71"/>
        <source>Normal radii (m)</source>
        <translation>法向半径（米）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="72"/>
        <source>Cylinder radius (m)</source>
        <translation>圆柱半径（米）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="73"/>
        <source>Max distance (m)</source>
        <translation>最大距离（米）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="74"/>
        <source>Registration error (m)</source>
        <translation>配准误差（米）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="75"/>
        <source>Core point spacing (m)</source>
        <translation>核心点间距（米）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="78"/>
        <source>Epoch A (reference)</source>
        <translation>期次 A（参考）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="79"/>
        <source>Epoch B (compared)</source>
        <translation>期次 B（比较对象）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="80"/>
        <source>Method</source>
        <translation>方法</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="83"/>
        <source>Compare</source>
        <translation>比较</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="112"/>
        <source>Open two point clouds (two epochs) to compare.</source>
        <translation>请打开两个点云（两个期次）以进行比较。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="116"/>
        <source>Choose two different epochs.</source>
        <translation>请选择两个不同的期次。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="128"/>
        <source>Normal radii: one or more positive numbers, e.g. 0.5, 1, 2.</source>
        <translation>法向半径：一个或多个正数，例如 0.5, 1, 2。</translation>
    </message>
</context>
<context>
    <name>CompareJob</name>
    <message>
        <location filename="../viewer/qt/compare_dialog.py" line="159"/>
        <source>Comparing {b} with {a}…</source>
        <translation>正在将 {b} 与 {a} 比较…</translation>
    </message>
</context>
<context>
    <name>CrsDialog</name>
    <message>
        <location filename="../viewer/qt/crs.py" line="84"/>
        <source>Coordinate systems</source>
        <translation>坐标参考系</translation>
    </message>
    <message>
        <location filename="../viewer/qt/crs.py" line="88"/>
        <source>Layers that know their CRS are transformed into the scene CRS (re-read in the background). Layers without a CRS are assumed to be in it.</source>
        <translation>带有坐标参考系的图层会转换到场景坐标参考系（在后台重新读取）。没有坐标参考系的图层被视为已在场景坐标参考系中。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/crs.py" line="111"/>
        <source>Scene CRS</source>
        <translation>场景坐标参考系</translation>
    </message>
    <message>
        <location filename="../viewer/qt/crs.py" line="113"/>
        <source>Also show coordinates in</source>
        <translation>同时显示坐标于</translation>
    </message>
    <message>
        <location filename="../viewer/qt/crs.py" line="136"/>
        <source>none: the first georeferenced layer opened sets it</source>
        <translation>无：由第一个打开的带地理参考的图层决定</translation>
    </message>
    <message>
        <location filename="../viewer/qt/crs.py" line="138"/>
        <source>none: coordinates in the scene CRS only</source>
        <translation>无：仅显示场景坐标参考系中的坐标</translation>
    </message>
</context>
<context>
    <name>DeviationDialog</name>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="35"/>
        <source>Scan vs model</source>
        <translation>扫描与模型比较</translation>
    </message>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="58"/>
        <source>Scan (points)</source>
        <translation>扫描（点云）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="59"/>
        <source>Model (mesh, city or IFC)</source>
        <translation>模型（网格、城市或 IFC）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="60"/>
        <source>Tolerance</source>
        <translation>容差</translation>
    </message>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="61"/>
        <source>Farthest point counted for an object</source>
        <translation>计入对象的最远距离</translation>
    </message>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="63"/>
        <source>Every point is measured to the nearest triangle in the scene&apos;s coordinates (both layers&apos; alignment applied); + in front of the face, − behind it.</source>
        <translation>每个点都在场景坐标中（已应用两个图层的对齐）量测到最近的三角形；面的正面为 +，背面为 −。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="70"/>
        <source>Measure</source>
        <translation>量测</translation>
    </message>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="82"/>
        <source>Open a point cloud and a mesh, city model or IFC model to compare.</source>
        <translation>请先打开一个点云以及一个网格、城市模型或 IFC 模型再进行比较。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="87"/>
        <source>{name} has no triangles to measure against.</source>
        <translation>{name} 没有可供量测的三角形。</translation>
    </message>
</context>
<context>
    <name>DeviationJob</name>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="112"/>
        <source>Measuring {scan} against {model}…</source>
        <translation>正在量测 {scan} 与 {model}…</translation>
    </message>
</context>
<context>
    <name>DeviationList</name>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="254"/>
        <source>Deviation from {scan}: {n} objects, tolerance {tolerance} m</source>
        <translation>与 {scan} 的偏差：{n} 个对象，容差 {tolerance} 米</translation>
    </message>
</context>
<context>
    <name>DeviationTools</name>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="161"/>
        <source>Scan vs model: {percent}</source>
        <translation>扫描与模型比较：{percent}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="174"/>
        <source>{scan} vs {model}: {points} points on {objects} objects within {distance} m; {seconds} s</source>
        <translation>{scan} 与 {model}：{points} 个点落在 {distance} 米内的 {objects} 个对象上；{seconds} 秒</translation>
    </message>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="186"/>
        <source>Scan vs model cancelled; nothing changed</source>
        <translation>扫描与模型比较已取消；未作任何更改</translation>
    </message>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="190"/>
        <source>Cannot measure</source>
        <translation>无法量测</translation>
    </message>
</context>
<context>
    <name>EdlDialog</name>
    <message>
        <location filename="../viewer/qt/edl_dialog.py" line="23"/>
        <source>Eye-dome lighting</source>
        <translation>EDL 眼罩光照</translation>
    </message>
    <message>
        <location filename="../viewer/qt/edl_dialog.py" line="24"/>
        <source>Eye-dome lighting on</source>
        <translation>开启 EDL 眼罩光照</translation>
    </message>
    <message>
        <location filename="../viewer/qt/edl_dialog.py" line="29"/>
        <source>How dark the edges behind nearer points get (Potree&apos;s default: 1.0)</source>
        <translation>较近点后方边缘的加深程度（Potree 默认值：1.0）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/edl_dialog.py" line="35"/>
        <source> px</source>
        <translation> 像素</translation>
    </message>
    <message>
        <location filename="../viewer/qt/edl_dialog.py" line="36"/>
        <source>How far (in pixels) each point looks for nearer neighbours: the width of the dark edges (default 1.4)</source>
        <translation>每个点查找较近邻点的距离（像素）：即暗边的宽度（默认 1.4）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/edl_dialog.py" line="38"/>
        <source>Defaults</source>
        <translation>默认值</translation>
    </message>
    <message>
        <location filename="../viewer/qt/edl_dialog.py" line="44"/>
        <source>Strength</source>
        <translation>强度</translation>
    </message>
    <message>
        <location filename="../viewer/qt/edl_dialog.py" line="45"/>
        <source>Radius</source>
        <translation>半径</translation>
    </message>
</context>
<context>
    <name>ExhibitDialog</name>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="72"/>
        <source>Export exhibit</source>
        <extracomment>budgets the dialog starts with (0 in a box: no limit)</extracomment>
        <translation>导出展览</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="82"/>
        <source> — not available yet</source>
        <translation> — 暂不可用</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="99"/>
        <source>All annotations ({n})</source>
        <translation>全部标注（{n}）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="101"/>
        <source>Only these categories</source>
        <translation>仅以下类别</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="102"/>
        <source>No annotations</source>
        <translation>不含标注</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="118"/>
        <source>No tour</source>
        <translation>不含导览</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="129"/>
        <source>no limit</source>
        <translation>不限</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="134"/>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="146"/>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="152"/>
        <source>Format</source>
        <translation>格式</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="153"/>
        <source>Layers</source>
        <translation>图层</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="154"/>
        <source>Annotations</source>
        <translation>标注</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="156"/>
        <source>Tour</source>
        <translation>导览</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="157"/>
        <source>Most triangles</source>
        <translation>三角形上限</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="158"/>
        <source>Most points</source>
        <translation>点数上限</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="159"/>
        <source>Estimated size</source>
        <translation>预计大小</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="160"/>
        <source>Save to</source>
        <translation>保存到</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="221"/>
        <source>choose at least one layer</source>
        <translation>请至少选择一个图层</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="227"/>
        <source>about {size}, {n} hotspots</source>
        <translation>约 {size}，{n} 个热点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="235"/>
        <source>Export exhibit to</source>
        <translation>导出展览到</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="236"/>
        <source>{fmt} files (*{suffix})</source>
        <translation>{fmt} 文件 (*{suffix})</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="240"/>
        <source>Export exhibit into a new or empty folder</source>
        <translation>将展览导出到新的或空的文件夹</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="250"/>
        <source>Choose where to save the exhibit.</source>
        <translation>请选择展览的保存位置。</translation>
    </message>
</context>
<context>
    <name>ExhibitExports</name>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="325"/>
        <source>Open a project or files to export first.</source>
        <translation>请先打开项目或文件再导出。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="355"/>
        <source>Exporting {name}: {message} {percent}</source>
        <translation>正在导出 {name}：{message} {percent}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="363"/>
        <source>Exhibit written: {path} ({counts}) — &lt;a href=&quot;open&quot;&gt;Open folder&lt;/a&gt;</source>
        <translation>展览已写出：{path}（{counts}）— &lt;a href=&quot;open&quot;&gt;打开文件夹&lt;/a&gt;</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="370"/>
        <source>Exported {path}</source>
        <translation>已导出 {path}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="378"/>
        <source>Cancelled the export of {name}; nothing was written</source>
        <translation>已取消导出 {name}，未写出任何文件</translation>
    </message>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="384"/>
        <source>Cannot export</source>
        <translation>无法导出</translation>
    </message>
</context>
<context>
    <name>ExhibitJob</name>
    <message>
        <location filename="../viewer/qt/exhibit_dialog.py" line="285"/>
        <source>Exporting {name}…</source>
        <translation>正在导出 {name}…</translation>
    </message>
</context>
<context>
    <name>HistogramPanel</name>
    <message>
        <location filename="../viewer/qt/histogram_panel.py" line="76"/>
        <source>Significant only</source>
        <translation>仅显著变化</translation>
    </message>
    <message>
        <location filename="../viewer/qt/histogram_panel.py" line="79"/>
        <source>Draw change below the level of detection in grey</source>
        <translation>低于检测限的变化以灰色显示</translation>
    </message>
    <message>
        <location filename="../viewer/qt/histogram_panel.py" line="106"/>
        <source>Select a layer compared with an epoch (Tools &gt; Compare epochs…).</source>
        <translation>请选择一个已与某期次比较过的图层（工具 &gt; 比较测量期次…）。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/histogram_panel.py" line="122"/>
        <source>Mean {v} m</source>
        <translation>均值 {v} 米</translation>
    </message>
    <message>
        <location filename="../viewer/qt/histogram_panel.py" line="123"/>
        <source>Median {v} m</source>
        <translation>中位数 {v} 米</translation>
    </message>
    <message>
        <location filename="../viewer/qt/histogram_panel.py" line="124"/>
        <source>95% of |d| below {v} m</source>
        <translation>95% 的 |d| 小于 {v} 米</translation>
    </message>
    <message>
        <location filename="../viewer/qt/histogram_panel.py" line="125"/>
        <source>{n} points</source>
        <translation>{n} 个点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/histogram_panel.py" line="127"/>
        <source>Significant: {share} ({n} points)</source>
        <translation>显著：{share}（{n} 个点）</translation>
    </message>
</context>
<context>
    <name>LayerPanel</name>
    <message>
        <location filename="../viewer/qt/panels.py" line="61"/>
        <source>Layer</source>
        <extracomment>a ProjectSession: when given, removal and reordering can be undone</extracomment>
        <translation>图层</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="61"/>
        <source>Type</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="61"/>
        <source>Count</source>
        <translation>数量</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="70"/>
        <source>Move layer up</source>
        <extracomment>callables (menu, layer) adding a tool&apos;s actions to a layer&apos;s context menu</extracomment>
        <translation>图层上移</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="71"/>
        <source>Move layer down</source>
        <translation>图层下移</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="72"/>
        <source>Remove layer (Del)</source>
        <translation>移除图层（Del）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="109"/>
        <source>tiles ({format})</source>
        <translation>瓦片（{format}）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="111"/>
        <source>streamed</source>
        <translation>流式</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="114"/>
        <source>points</source>
        <translation>点云</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="116"/>
        <source>points (COPC)</source>
        <translation>点云（COPC）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="118"/>
        <source> (loading…)</source>
        <translation>（加载中…）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="120"/>
        <source>IFC model</source>
        <translation>IFC 模型</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="121"/>
        <source>city model</source>
        <translation>城市模型</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="122"/>
        <source>{n} obj</source>
        <translation>{n} 个对象</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="124"/>
        <source>mesh</source>
        <translation>网格</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="129"/>
        <source>No coordinate reference system: assumed to be in the scene CRS. Use the Align panel if it is not in place.</source>
        <translation>无坐标参考系：视为位于场景坐标参考系中。如位置不对，请使用“配准”面板。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="133"/>
        <source>Transformed from {crs} into the scene CRS</source>
        <translation>已从 {crs} 转换到场景坐标参考系</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="195"/>
        <source>Zoom to layer</source>
        <translation>缩放至图层</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="196"/>
        <source>Move up</source>
        <translation>上移</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="197"/>
        <source>Move down</source>
        <translation>下移</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="201"/>
        <source>Remove</source>
        <translation>删除</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../viewer/qt/main_window.py" line="518"/>
        <source>Language changed: menus now, panels at the next start</source>
        <translation>界面语言已切换：菜单立即生效，面板在下次启动时生效</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="521"/>
        <source>Main</source>
        <translation>主工具栏</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="547"/>
        <source>Annotate</source>
        <translation>标注</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="637"/>
        <source>This layer has no file to read again.</source>
        <translation>此图层没有可重新读取的文件。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="642"/>
        <source>This layer is being read; wait until it has loaded.</source>
        <translation>此图层正在读取，请等待加载完成。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="661"/>
        <source>Index a point cloud to COPC</source>
        <translation>为点云建立 COPC 索引</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="663"/>
        <source>LAS/LAZ point clouds (*.las *.laz)</source>
        <translation>LAS/LAZ 点云 (*.las *.laz)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="679"/>
        <source>Indexed {name} → {out}: it now opens by streaming</source>
        <translation>已为 {name} 建立索引 → {out}：现在将以流式方式打开</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="727"/>
        <source>Loading {name}: {message} {percent}</source>
        <translation>正在加载 {name}：{message} {percent}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="745"/>
        <source>Loading {n} file(s)…</source>
        <translation>正在加载 {n} 个文件…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="761"/>
        <source>{name}: showing a preview of {n} points while the rest loads</source>
        <translation>{name}：正在显示 {n} 个点的预览，其余部分继续加载</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="809"/>
        <source> from its COPC index {name}</source>
        <translation>（来自其 COPC 索引 {name}）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="812"/>
        <source>Streaming {name}{via}: {n} points, only the nodes in view are loaded</source>
        <translation>正在流式加载 {name}{via}：共 {n} 个点，只加载视野内的节点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="843"/>
        <source>Not opened: {url} redirects to {host}</source>
        <translation>未打开：{url} 重定向到 {host}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="852"/>
        <source>Cancelled loading {name}</source>
        <translation>已取消加载 {name}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="891"/>
        <source>{drawn} / {total} points</source>
        <translation>{drawn} / {total} 个点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="929"/>
        <source>View {n}</source>
        <translation>视图 {n}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="977"/>
        <source>Background</source>
        <translation>背景</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="991"/>
        <source>About RealScene</source>
        <translation>关于 RealScene</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="992"/>
        <source>RealScene — a desktop 3D viewer for real-scene city models and cultural heritage.
Formats: {formats}</source>
        <translation>RealScene — 面向实景三维城市模型与文化遗产的桌面三维浏览器。
支持格式：{formats}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="1014"/>
        <source>Click failed: {kind}: {message}</source>
        <translation>点击处理失败：{kind}：{message}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="1032"/>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="1037"/>
        <source>Scene CRS: {code}</source>
        <translation>场景坐标参考系：{code}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="1040"/>
        <source> ({name}, chosen for longitude/latitude data)</source>
        <translation>（{name}，为经纬度数据自动选择）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="1072"/>
        <source>Scene CRS not changed</source>
        <translation>场景坐标参考系未更改</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="1239"/>
        <source>&amp;Undo</source>
        <translation>撤销(&amp;U)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="1239"/>
        <source>&amp;Redo</source>
        <translation>重做(&amp;R)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="1244"/>
        <source>untitled</source>
        <translation>未命名</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="1250"/>
        <source>Play “{name}”</source>
        <translation>播放“{name}”</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="1252"/>
        <source>Stop tour</source>
        <translation>停止漫游</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="1273"/>
        <source>Categories</source>
        <translation>类别</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="1276"/>
        <source>Condition</source>
        <translation>完损状况</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="1279"/>
        <source>No grade</source>
        <translation>未评定</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="1281"/>
        <source>Show all</source>
        <translation>全部显示</translation>
    </message>
    <message>
        <location filename="../viewer/qt/main_window.py" line="1392"/>
        <source>No point under the cursor</source>
        <translation>光标下没有点</translation>
    </message>
</context>
<context>
    <name>MeasurementsPanel</name>
    <message>
        <location filename="../viewer/qt/measurements.py" line="34"/>
        <location filename="../viewer/qt/measurements.py" line="61"/>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <location filename="../viewer/qt/measurements.py" line="35"/>
        <location filename="../viewer/qt/measurements.py" line="62"/>
        <source>Duplicate the selected measurement</source>
        <translation>复制所选测量</translation>
    </message>
    <message>
        <location filename="../viewer/qt/measurements.py" line="36"/>
        <location filename="../viewer/qt/measurements.py" line="63"/>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <location filename="../viewer/qt/measurements.py" line="55"/>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <location filename="../viewer/qt/measurements.py" line="55"/>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../viewer/qt/measurements.py" line="55"/>
        <source>Value</source>
        <translation>数值</translation>
    </message>
    <message>
        <location filename="../viewer/qt/measurements.py" line="56"/>
        <source>Date</source>
        <translation>日期</translation>
    </message>
    <message>
        <location filename="../viewer/qt/measurements.py" line="95"/>
        <source>Double-click to rename; the checkbox shows or hides it in the view</source>
        <translation>双击重命名；勾选框在视图中显示或隐藏它</translation>
    </message>
</context>
<context>
    <name>MediaExports</name>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="229"/>
        <source>Rendering {name}…</source>
        <translation>正在渲染 {name}…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="230"/>
        <location filename="../viewer/qt/media_dialogs.py" line="282"/>
        <source>Saving {name}…</source>
        <translation>正在保存 {name}…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="276"/>
        <source>Rendering {name}: frame {i} of {n}</source>
        <translation>正在渲染 {name}：第 {i} 帧，共 {n} 帧</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="279"/>
        <source>Saving {name}: tile {i} of {n}</source>
        <translation>正在保存 {name}：第 {i} 块，共 {n} 块</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="377"/>
        <source>Save screenshot</source>
        <extracomment>largest side drawn in one piece (tiles beyond it)</extracomment>
        <translation>保存截图</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="378"/>
        <source>PNG image (*.png)</source>
        <translation>PNG 图像 (*.png)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="389"/>
        <source>Open a project or files first.</source>
        <translation>请先打开项目或文件。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="397"/>
        <source>Export video</source>
        <translation>导出视频</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="398"/>
        <source>MP4 video (*.mp4)</source>
        <translation>MP4 视频 (*.mp4)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="462"/>
        <source>Saved {path}</source>
        <translation>已保存 {path}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="467"/>
        <source>Cannot export the video</source>
        <translation>无法导出视频</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="468"/>
        <source>Cannot save the picture</source>
        <translation>无法保存图片</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="478"/>
        <source>Cancelled {name}; nothing was written</source>
        <translation>已取消 {name}，未写入任何文件</translation>
    </message>
</context>
<context>
    <name>ObjectsPanel</name>
    <message>
        <location filename="../viewer/qt/objects.py" line="78"/>
        <source>Search id, name or type…</source>
        <extracomment>callable(true xyz) -&gt; &quot;EPSG:n: coordinates&quot; in a second CRS, or &quot;&quot; (optional)</extracomment>
        <translation>搜索编号、名称或类型…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="93"/>
        <source>Hierarchy</source>
        <translation>层级</translation>
    </message>
    <message>
        <location filename="../viewer/qt/deviation_dialog.py" line="228"/>
        <location filename="../viewer/qt/objects.py" line="94"/>
        <location filename="../viewer/qt/objects.py" line="135"/>
        <source>Type</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="102"/>
        <source>LOD:</source>
        <translation>细节层次：</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="105"/>
        <source>Group by:</source>
        <translation>分组方式：</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="106"/>
        <source>Colour by:</source>
        <translation>着色方式：</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="111"/>
        <source>Filter, e.g. type == &quot;Building&quot; and measuredHeight &gt; 20</source>
        <translation>筛选，例如 type == &quot;Building&quot; and measuredHeight &gt; 20</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="113"/>
        <source>Apply</source>
        <translation>应用</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="115"/>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="135"/>
        <source>Object</source>
        <translation>对象</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="147"/>
        <source>Property</source>
        <translation>属性</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="147"/>
        <source>Value</source>
        <translation>值</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="497"/>
        <source>centre ({crs})</source>
        <translation>中心（{crs}）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="531"/>
        <source>No matching objects</source>
        <translation>没有匹配的对象</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="557"/>
        <source>Materials</source>
        <translation>材质</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="559"/>
        <source>Semantic surfaces</source>
        <translation>语义面</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="560"/>
        <source>Object type</source>
        <translation>对象类型</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="562"/>
        <source>Attribute: {name}</source>
        <translation>属性：{name}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="632"/>
        <source>{n} of {total} objects match</source>
        <translation>{total} 个对象中有 {n} 个匹配</translation>
    </message>
    <message>
        <location filename="../viewer/qt/objects.py" line="641"/>
        <source>Highest per object</source>
        <translation>每个对象的最高层次</translation>
    </message>
</context>
<context>
    <name>PreferencesDialog</name>
    <message>
        <location filename="../viewer/qt/shortcuts.py" line="130"/>
        <source>Preferences</source>
        <translation>首选项</translation>
    </message>
    <message>
        <location filename="../viewer/qt/shortcuts.py" line="132"/>
        <source>your name, e.g. Li Wei</source>
        <translation>您的姓名，例如 李伟</translation>
    </message>
    <message>
        <location filename="../viewer/qt/shortcuts.py" line="133"/>
        <source>Written as the author of new annotations</source>
        <translation>作为新标注的记录人写入</translation>
    </message>
    <message>
        <location filename="../viewer/qt/shortcuts.py" line="135"/>
        <source>Default author</source>
        <translation>默认记录人</translation>
    </message>
</context>
<context>
    <name>ProfilePanel</name>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="42"/>
        <source>Profile</source>
        <translation>剖面</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="50"/>
        <source>Pick line in view</source>
        <translation>在视图中拾取剖面线</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="52"/>
        <source>Click the two ends of the section line in the 3D view</source>
        <translation>在三维视图中点击剖面线的两个端点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="55"/>
        <source>Take the line from a polyline annotation (its first and last point)</source>
        <translation>从折线标注取剖面线（其首末两点）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="57"/>
        <source>Use</source>
        <translation>使用</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="61"/>
        <source>Full width of the section</source>
        <translation>剖面的总宽度</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="62"/>
        <source>Measure</source>
        <translation>量测</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="65"/>
        <source>Click two points of the profile</source>
        <translation>在剖面上点击两点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="66"/>
        <source>Save measurements to project</source>
        <translation>将量测保存到项目</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="71"/>
        <source>Export the profile as {fmt}</source>
        <translation>将剖面导出为 {fmt}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="87"/>
        <source>Width</source>
        <translation>宽度</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="139"/>
        <source>Click the first end of the line in the 3D view</source>
        <translation>在三维视图中点击剖面线的第一个端点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="146"/>
        <source>Now click the other end</source>
        <translation>再点击另一个端点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="195"/>
        <source>{points} points, {segments} cut-line segments along {length} {units}</source>
        <translation>{points} 个点，{segments} 段切割线，长 {length} {units}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="212"/>
        <source>Pick a line in the 3D view or use a polyline annotation</source>
        <translation>在三维视图中拾取剖面线，或使用折线标注</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="220"/>
        <source>distance along the profile ({units})</source>
        <translation>沿剖面距离（{units}）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="222"/>
        <source>height ({units})</source>
        <translation>高度（{units}）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="231"/>
        <source>Click the first point of the measurement</source>
        <translation>点击量测的第一点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="232"/>
        <source>Click the second point</source>
        <translation>点击第二点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="275"/>
        <source>Profile: {label}</source>
        <translation>剖面：{label}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="277"/>
        <source>{n} measurements saved to the project</source>
        <translation>已将 {n} 项量测保存到项目</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="299"/>
        <source>Export profile</source>
        <translation>导出剖面</translation>
    </message>
    <message>
        <location filename="../viewer/qt/profile_panel.py" line="307"/>
        <source>Exported {name}</source>
        <translation>已导出 {name}</translation>
    </message>
</context>
<context>
    <name>ProjectActions</name>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="53"/>
        <source>3D data ({exts});;Tilesets: 3D Tiles, OSGB, GeoTIFF terrain ({tiles});;All files (*)</source>
        <translation>三维数据 ({exts});;瓦片集：3D Tiles、OSGB、GeoTIFF 地形 ({tiles});;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="126"/>
        <source>Open 3D data</source>
        <translation>打开三维数据</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="136"/>
        <source>Open a tileset folder</source>
        <translation>打开瓦片集文件夹</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="200"/>
        <source>New project</source>
        <translation>新项目</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="210"/>
        <source>Project closed</source>
        <translation>项目已关闭</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="297"/>
        <source>{name} placed at the scene&apos;s centre</source>
        <translation>{name} 已放在场景中心</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="301"/>
        <source>Not opened: {name}</source>
        <translation>未打开：{name}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="343"/>
        <source>Open project</source>
        <translation>打开项目</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="344"/>
        <source>RealScene projects (*.json);;All files (*)</source>
        <translation>RealScene 项目 (*.json);;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="360"/>
        <source>Cannot open project</source>
        <translation>无法打开项目</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="364"/>
        <source>Find the missing layer {path}</source>
        <translation>查找缺失的图层 {path}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="391"/>
        <source>Could not recover the untitled work: {error}</source>
        <translation>无法恢复未命名的工作：{error}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="404"/>
        <source>Save project</source>
        <translation>保存项目</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="405"/>
        <source>RealScene projects (*.json)</source>
        <translation>RealScene 项目 (*.json)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="416"/>
        <source>Cannot save project</source>
        <translation>无法保存项目</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="420"/>
        <source>Saved {path}</source>
        <translation>已保存 {path}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="430"/>
        <source>The untitled project</source>
        <translation>未命名项目</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="443"/>
        <source>Autosave failed: {error}</source>
        <translation>自动保存失败：{error}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="455"/>
        <source>Exported {n} annotations to {path}</source>
        <translation>已将 {n} 条标注导出到 {path}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="480"/>
        <source>Export annotations</source>
        <translation>导出标注</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="488"/>
        <source>Cannot export</source>
        <translation>无法导出</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="498"/>
        <source>Import annotations</source>
        <translation>导入标注</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="499"/>
        <source>Annotations (*.jsonld *.json *.geojson *.csv)</source>
        <translation>标注 (*.jsonld *.json *.geojson *.csv)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="505"/>
        <source>Cannot import</source>
        <translation>无法导入</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="507"/>
        <source>Imported {added} new, {replaced} updated annotations</source>
        <translation>已导入 {added} 条新标注，更新 {replaced} 条</translation>
    </message>
    <message>
        <location filename="../viewer/qt/project_actions.py" line="510"/>
        <source> (the file states no CRS: taken to be {crs})</source>
        <translation>（文件未声明坐标参考系：视为 {crs}）</translation>
    </message>
</context>
<context>
    <name>PropertiesPanel</name>
    <message>
        <location filename="../viewer/qt/panels.py" line="217"/>
        <location filename="../viewer/qt/panels.py" line="367"/>
        <source>No layer selected</source>
        <extracomment>a ProjectSession: when given, every change goes through its undo stack</extracomment>
        <translation>未选择图层</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="229"/>
        <source>Adaptive</source>
        <translation>自适应</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="230"/>
        <source>Fixed</source>
        <translation>固定</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="232"/>
        <source>Adaptive: points grow with the level of detail&apos;s spacing as you come closer, so close-ups show a closed surface (the point size is the smallest). Fixed: every point is the point size in pixels.</source>
        <translation>自适应：点的大小随细节层次的点间距变化，越靠近越大，近景呈现为连续的表面（点大小为最小值）。固定：每个点都按点大小（像素）绘制。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="235"/>
        <source>Round points</source>
        <translation>圆形点</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="237"/>
        <source>Draw points as round splats instead of squares</source>
        <translation>将点绘制为圆形而不是方形</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="240"/>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="257"/>
        <source>Which axis of the file points up. glTF files are Y-up by the standard; choose Z for a file stored Z-up (a model lying on its side).</source>
        <translation>文件中朝上的坐标轴。按标准 glTF 文件以 Y 轴朝上；若文件以 Z 轴朝上存储（模型侧躺），请选择 Z。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="264"/>
        <source>The length unit of a file without a coordinate system: the layer is scaled into metres. None: it measures in &quot;units&quot;.</source>
        <translation>没有坐标系的文件的长度单位：图层按此缩放为米。无：以“单位”计量。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="267"/>
        <source>Classes (ASPRS): uncheck to hide</source>
        <translation>分类（ASPRS）：取消勾选即隐藏</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="271"/>
        <source>Colour by</source>
        <translation>着色方式</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="272"/>
        <source>Attribute</source>
        <translation>属性</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="273"/>
        <source>Colour map</source>
        <translation>色带</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="274"/>
        <source>Contrast</source>
        <translation>对比度</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="278"/>
        <source>Point size</source>
        <translation>点大小</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="280"/>
        <source>Opacity</source>
        <translation>不透明度</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="281"/>
        <source>Colour</source>
        <translation>颜色</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="288"/>
        <source>Drape orthophoto…</source>
        <translation>叠加正射影像…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="291"/>
        <source>Show an orthophoto GeoTIFF on this mesh, projected from above, as its texture</source>
        <translation>将正射影像 GeoTIFF 自上而下投影到此网格上，作为其纹理显示</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="295"/>
        <source>Remove orthophoto</source>
        <translation>移除正射影像</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="298"/>
        <source>Take the draped orthophoto off: the mesh&apos;s own materials again</source>
        <translation>移除叠加的正射影像：恢复网格自身的材质</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="302"/>
        <source>Up axis</source>
        <translation>朝上轴</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="304"/>
        <source>Units</source>
        <translation>单位</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="306"/>
        <source>CRS</source>
        <translation>坐标参考系</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="307"/>
        <source>Assign CRS…</source>
        <translation>指定坐标参考系…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="310"/>
        <source>Give this layer a coordinate system: when its file has none or a wrong one</source>
        <translation>为此图层指定坐标参考系：当文件中没有或有误时</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="313"/>
        <source>Data</source>
        <translation>数据</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="317"/>
        <source>Classes</source>
        <translation>分类</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="473"/>
        <source>Reading {name}</source>
        <translation>正在读取 {name}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="493"/>
        <source>Reading the attributes cancelled</source>
        <translation>已取消读取属性</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="497"/>
        <source>Reading {name}: {percent}</source>
        <translation>正在读取 {name}：{percent}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/panels.py" line="544"/>
        <source>Layer colour</source>
        <translation>图层颜色</translation>
    </message>
</context>
<context>
    <name>ScreenshotDialog</name>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="113"/>
        <source>Save screenshot</source>
        <translation>保存截图</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="115"/>
        <source>Transparent background</source>
        <translation>透明背景</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="118"/>
        <source>A PNG with an alpha channel: nothing drawn is see-through (for catalogues and posters)</source>
        <translation>带 Alpha 通道的 PNG：未绘制之处透明（用于图录和海报）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="121"/>
        <source>Pictures larger than {n} pixels are drawn in tiles; 8K takes a while.</source>
        <translation>大于 {n} 像素的图片分块绘制；8K 需要一些时间。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="124"/>
        <source>Size</source>
        <translation>尺寸</translation>
    </message>
</context>
<context>
    <name>ShortcutsDialog</name>
    <message>
        <location filename="../viewer/qt/shortcuts.py" line="88"/>
        <source>Keyboard shortcuts</source>
        <extracomment>the click tools&apos; keys (none clashes with F, Shift+F, 1-4, E, M, Ctrl+B/E/I/U, Return, Escape, nor the standard Open/Save/Undo/Redo/Quit keys)</extracomment>
        <translation>键盘快捷键</translation>
    </message>
    <message>
        <location filename="../viewer/qt/shortcuts.py" line="90"/>
        <source>Search…</source>
        <translation>搜索…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/shortcuts.py" line="92"/>
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <location filename="../viewer/qt/shortcuts.py" line="92"/>
        <source>Shortcut</source>
        <translation>快捷键</translation>
    </message>
</context>
<context>
    <name>TileLayerBox</name>
    <message>
        <location filename="../viewer/qt/tiles_panel.py" line="59"/>
        <source>tiles: {drawn} drawn / {loaded} loaded / {pending} pending, {mb} MB</source>
        <translation>瓦片：已绘制 {drawn} / 已加载 {loaded} / 待加载 {pending}，{mb} MB</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tiles_panel.py" line="75"/>
        <source>Tiles</source>
        <translation>瓦片</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tiles_panel.py" line="88"/>
        <source> px</source>
        <translation> 像素</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tiles_panel.py" line="90"/>
        <source>Maximum screen-space error: how many pixels of error a tile may show before finer tiles replace it. Smaller: more detail, more tiles to load.</source>
        <translation>最大屏幕空间误差：瓦片在被更精细的瓦片替换之前允许显示的误差像素数。越小：细节越多，需加载的瓦片越多。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tiles_panel.py" line="96"/>
        <source> MB</source>
        <translation> MB</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tiles_panel.py" line="98"/>
        <source>Memory for loaded tiles: beyond it the tiles not drawn are dropped first</source>
        <translation>已加载瓦片的内存：超出时先释放未绘制的瓦片</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tiles_panel.py" line="104"/>
        <source>Drape orthophoto…</source>
        <translation>叠加正射影像…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tiles_panel.py" line="107"/>
        <source>Show an orthophoto GeoTIFF on this terrain as its texture</source>
        <translation>将正射影像 GeoTIFF 作为纹理显示在此地形上</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tiles_panel.py" line="110"/>
        <source>Detail</source>
        <translation>细节</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tiles_panel.py" line="111"/>
        <source>Memory</source>
        <translation>内存</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tiles_panel.py" line="115"/>
        <source>Remove orthophoto</source>
        <translation>移除正射影像</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tiles_panel.py" line="118"/>
        <source>Take the draped orthophoto off: the layer&apos;s own look again (Edit &gt; Undo brings it back)</source>
        <translation>移除叠加的正射影像：恢复图层自身的外观（编辑 &gt; 撤销可恢复）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tiles_panel.py" line="170"/>
        <source>tiles: waiting for the first view</source>
        <translation>瓦片：等待首次视图</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tiles_panel.py" line="175"/>
        <source>… and {n} more</source>
        <translation>… 另有 {n} 条</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tiles_panel.py" line="185"/>
        <source>{name}: {n} new warning(s): {first}</source>
        <translation>{name}：{n} 条新警告：{first}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tiles_panel.py" line="222"/>
        <source>Drape an orthophoto</source>
        <translation>叠加正射影像</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tiles_panel.py" line="223"/>
        <source>GeoTIFF orthophotos (*.tif *.tiff);;All files (*)</source>
        <translation>GeoTIFF 正射影像 (*.tif *.tiff);;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tiles_panel.py" line="244"/>
        <source>{name} draped on {layer}</source>
        <translation>已将 {name} 叠加到 {layer}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tiles_panel.py" line="250"/>
        <source>Cannot drape the orthophoto</source>
        <translation>无法叠加正射影像</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tiles_panel.py" line="253"/>
        <source>Draping {name}</source>
        <translation>正在叠加 {name}</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tiles_panel.py" line="257"/>
        <source>Draping {name}…</source>
        <translation>正在叠加 {name}…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tiles_panel.py" line="260"/>
        <source>Draping cancelled</source>
        <translation>已取消叠加</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tiles_panel.py" line="278"/>
        <source>Orthophoto removed from {layer}</source>
        <translation>已从 {layer} 移除正射影像</translation>
    </message>
</context>
<context>
    <name>TourPanel</name>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="164"/>
        <source>New</source>
        <translation>新建</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="165"/>
        <source>A new, empty tour</source>
        <translation>新建一个空的导览</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="166"/>
        <source>Rename…</source>
        <translation>重命名…</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="167"/>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="168"/>
        <source>Delete this tour</source>
        <translation>删除此导览</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="169"/>
        <source>Add current view</source>
        <translation>添加当前视图</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="171"/>
        <source>Add the camera the view has now as the tour&apos;s next stop</source>
        <translation>将视图当前的相机添加为导览的下一站</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="172"/>
        <location filename="../viewer/qt/tour_panel.py" line="338"/>
        <source>Add selected annotation</source>
        <translation>添加所选标注</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="174"/>
        <source>Add the annotation selected in the Annotations tab as a stop: its text and photo are shown when the tour gets there</source>
        <translation>将“标注”标签页中所选的标注添加为一站：导览到达时显示其文字和照片</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="176"/>
        <source>Move the stop earlier</source>
        <translation>将此站提前</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="177"/>
        <source>Move the stop later</source>
        <translation>将此站推后</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="178"/>
        <source>Delete stop</source>
        <translation>删除此站</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="179"/>
        <location filename="../viewer/qt/tour_panel.py" line="298"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="179"/>
        <location filename="../viewer/qt/tour_panel.py" line="182"/>
        <source>Caption</source>
        <translation>说明文字</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="179"/>
        <source>Move s</source>
        <translation>移动 秒</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="180"/>
        <source>Pause s</source>
        <translation>停留 秒</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="181"/>
        <source>Drag a stop to reorder the tour</source>
        <translation>拖动一站以调整导览顺序</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="182"/>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="183"/>
        <source>Move (s)</source>
        <translation>移动（秒）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="183"/>
        <source>Pause (s)</source>
        <translation>停留（秒）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="186"/>
        <source>the view&apos;s or annotation&apos;s name</source>
        <translation>视图或标注的名称</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="187"/>
        <source>shown over the view during the tour</source>
        <translation>导览时显示在视图上</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="188"/>
        <source>Seconds the camera takes to reach this stop</source>
        <translation>相机到达此站所用的秒数</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="189"/>
        <source>Seconds the tour stays at this stop</source>
        <translation>导览在此站停留的秒数</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="260"/>
        <source>(missing)</source>
        <translation>（已缺失）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="261"/>
        <source>View</source>
        <translation>视图</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="298"/>
        <source>Play</source>
        <translation>播放</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="312"/>
        <source>Rename tour</source>
        <translation>重命名导览</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="313"/>
        <source>Name:</source>
        <translation>名称：</translation>
    </message>
    <message>
        <location filename="../viewer/qt/tour_panel.py" line="339"/>
        <source>Select an annotation in the Annotations tab first.</source>
        <translation>请先在“标注”标签页中选择一个标注。</translation>
    </message>
</context>
<context>
    <name>VideoDialog</name>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="155"/>
        <source>Export video</source>
        <translation>导出视频</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="156"/>
        <source>Turntable</source>
        <translation>转台旋转</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="160"/>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="161"/>
        <source>Tour</source>
        <translation>导览</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="166"/>
        <source>The project has no tours</source>
        <translation>项目中没有导览</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="176"/>
        <source>Size</source>
        <translation>尺寸</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="177"/>
        <source>Frames per second</source>
        <translation>帧率（帧/秒）</translation>
    </message>
    <message>
        <location filename="../viewer/qt/media_dialogs.py" line="178"/>
        <source>Written as H.264 MP4, starting from the current view.</source>
        <translation>以 H.264 MP4 格式写出，从当前视图开始。</translation>
    </message>
</context>
<context>
    <name>crs</name>
    <message>
        <location filename="../viewer/qt/crs.py" line="72"/>
        <source>outside the area of this CRS</source>
        <translation>超出此坐标参考系的适用范围</translation>
    </message>
    <message>
        <location filename="../viewer/qt/crs.py" line="293"/>
        <source>Coordinate system not assigned</source>
        <translation>未指定坐标参考系</translation>
    </message>
</context>
<context>
    <name>dialogs</name>
    <message>
        <location filename="../viewer/qt/dialogs.py" line="25"/>
        <source>Unsaved changes</source>
        <translation>未保存的更改</translation>
    </message>
    <message>
        <location filename="../viewer/qt/dialogs.py" line="26"/>
        <source>{name} has unsaved changes. Save them before {before}?</source>
        <translation>{name} 有未保存的更改。在{before}之前保存吗？</translation>
    </message>
    <message>
        <location filename="../viewer/qt/dialogs.py" line="48"/>
        <location filename="../viewer/qt/dialogs.py" line="56"/>
        <location filename="../viewer/qt/dialogs.py" line="63"/>
        <source>Recover unsaved work?</source>
        <translation>恢复未保存的工作？</translation>
    </message>
    <message>
        <location filename="../viewer/qt/dialogs.py" line="49"/>
        <source>RealScene did not close normally. {name} has unsaved changes in its recovery file. Recover them?</source>
        <translation>RealScene 上次未正常关闭。{name} 的恢复文件中有未保存的更改。要恢复吗？</translation>
    </message>
    <message>
        <location filename="../viewer/qt/dialogs.py" line="57"/>
        <source>RealScene did not close normally. Unsaved work of an untitled project was kept in a recovery file. Recover it?</source>
        <translation>RealScene 上次未正常关闭。一个未命名项目的未保存工作已保存在恢复文件中。要恢复吗？</translation>
    </message>
    <message>
        <location filename="../viewer/qt/dialogs.py" line="64"/>
        <source>{name} has unsaved changes from a session that ended unexpectedly. Recover them?</source>
        <translation>{name} 有来自一次意外结束的会话的未保存更改。要恢复吗？</translation>
    </message>
    <message>
        <location filename="../viewer/qt/dialogs.py" line="75"/>
        <source>Cannot open file</source>
        <translation>无法打开文件</translation>
    </message>
    <message>
        <location filename="../viewer/qt/dialogs.py" line="78"/>
        <source>The other layers are not affected.</source>
        <translation>其他图层不受影响。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/dialogs.py" line="88"/>
        <source>Redirect to another host</source>
        <translation>重定向到其他主机</translation>
    </message>
    <message>
        <location filename="../viewer/qt/dialogs.py" line="89"/>
        <source>{url} redirects to {host}. Allow?</source>
        <translation>{url} 重定向到 {host}。允许吗？</translation>
    </message>
    <message>
        <location filename="../viewer/qt/dialogs.py" line="93"/>
        <source>It points to {target}
Allow it only if you trust {host}.</source>
        <translation>它指向 {target}
仅在您信任 {host} 时才允许。</translation>
    </message>
    <message>
        <location filename="../viewer/qt/dialogs.py" line="111"/>
        <source>Open URL</source>
        <translation>打开 URL</translation>
    </message>
    <message>
        <location filename="../viewer/qt/dialogs.py" line="112"/>
        <source>URL of a COPC point cloud or a 3D Tiles tileset.json (http:// or https://):</source>
        <translation>COPC 点云或 3D Tiles tileset.json 的 URL（http:// 或 https://）：</translation>
    </message>
    <message>
        <location filename="../viewer/qt/dialogs.py" line="120"/>
        <source>Save view</source>
        <translation>保存视图</translation>
    </message>
    <message>
        <location filename="../viewer/qt/dialogs.py" line="121"/>
        <source>Name of the view:</source>
        <translation>视图名称：</translation>
    </message>
</context>
</TS>
