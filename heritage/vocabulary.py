"""The heritage vocabulary in English and Simplified Chinese (plain data, no Qt).

Stored values stay language-neutral: a project keeps the keys (``crack``, ``good``...)
and the team's own labels; only what is shown and reported is translated. A term is
shown in the chosen language unless the team gave it a label of its own (a label other
than the default English one), which is then shown as written, in any language.

Condition grades follow the four grades of Chinese building condition assessment,
《房屋完损等级评定标准》(Ministry of Urban and Rural Construction and Environmental
Protection, 1984): 完好 / 基本完好 / 一般损坏 / 严重损坏 (its fifth grade, 危险房, is
folded into ``critical``). See the README, "Heritage vocabulary (中文)".
"""

from __future__ import annotations

LANGS = ("en", "zh")

#: annotation categories: key -> {language: term}
CATEGORY_TERMS: dict[str, dict[str, str]] = {
    "crack": {"en": "Crack", "zh": "裂缝"},
    "erosion": {"en": "Erosion", "zh": "风化侵蚀"},
    "biological_growth": {"en": "Biological growth", "zh": "生物病害"},
    "material_loss": {"en": "Material loss", "zh": "残缺"},
    "deformation": {"en": "Deformation", "zh": "变形"},
    "graffiti": {"en": "Graffiti", "zh": "涂鸦刻划"},
    "past_intervention": {"en": "Past intervention", "zh": "既往修缮干预"},
    "inscription": {"en": "Inscription", "zh": "题刻铭文"},
    "decoration": {"en": "Decoration", "zh": "装饰"},
    "other": {"en": "Other", "zh": "其他"},
}

#: default display colours (RGB 0..255) of the categories: each reads on grey scans
#: ((0.85, 0.85, 0.85)), on white and on the dark default background (WCAG contrast
#: ratio >= 2 against each; tests/heritage/test_default_colors.py checks it)
CATEGORY_COLORS: dict[str, tuple[int, int, int]] = {
    "crack": (220, 40, 40),
    "erosion": (230, 120, 0),
    "biological_growth": (40, 150, 40),
    "material_loss": (150, 80, 40),
    "deformation": (150, 60, 200),
    "graffiti": (225, 60, 150),
    "past_intervention": (40, 110, 230),
    "inscription": (160, 150, 0),
    "decoration": (0, 150, 150),
    "other": (95, 105, 125),  # slate, not light grey: it vanished on grey points
}

#: default display colours of the condition grades (same contrast rule)
CONDITION_COLORS: dict[str, tuple[int, int, int]] = {
    "good": (40, 150, 60),
    "fair": (180, 140, 0),
    "poor": (225, 105, 0),
    "critical": (220, 30, 30),
}

#: the selected annotation or measurement in the view (was white, which vanished on
#: white backgrounds and light scans): magenta, apart from every category colour
HIGHLIGHT_COLOR: tuple[int, int, int] = (255, 0, 255)

#: condition grades, best first: key -> {language: term}
CONDITION_TERMS: dict[str, dict[str, str]] = {
    "good": {"en": "Good", "zh": "完好"},
    "fair": {"en": "Fair", "zh": "基本完好"},
    "poor": {"en": "Poor", "zh": "一般损坏"},
    "critical": {"en": "Critical", "zh": "严重损坏"},
}

#: annotation kinds (geometry)
KIND_TERMS: dict[str, dict[str, str]] = {
    "point": {"en": "point", "zh": "点"},
    "polyline": {"en": "polyline", "zh": "折线"},
    "polygon": {"en": "polygon", "zh": "多边形"},
    "box": {"en": "box", "zh": "长方体区域"},
}

#: the words of the condition report (English text -> Chinese)
REPORT_WORDS: dict[str, str] = {
    "Condition report": "病害勘察报告",
    "Project": "项目",
    "File": "文件",
    "CRS": "坐标参考系",
    "not set": "未设置",
    "Annotations": "标注",
    "Date": "日期",
    "Untitled project": "未命名项目",
    "Summary by category and condition": "按类别与完损等级汇总",
    "Category": "类别",
    "Condition": "完损等级",
    "Not assessed": "未评定",
    "not assessed": "未评定",
    "Total": "合计",
    "All": "全部",
    "Observed": "勘察日期",
    "Author": "记录人",
    "Kind": "类型",
    "Location": "位置",
    "Length": "长度",
    "Area": "面积",
    "Size": "尺寸",
    "Vertices": "顶点数",
    "Tags": "标签",
    "Linked object": "关联对象",
    "Created": "创建时间",
    "Modified": "修改时间",
    "ID": "编号",
    "(untitled)": "（无标题）",
    "Description": "描述",
    "Photos": "照片",
    "Other linked files": "其他关联文件",
    "missing": "缺失",
    "This project has no annotations.": "本项目没有标注。",
    "Left out": "未收录",
    "These linked files were not included: media are read only from the project folder, "
    "and only images RealScene can decode are embedded.":
        "以下关联文件未收录：媒体文件只从项目文件夹读取，且只嵌入 RealScene 能解码的图像。",
    "No rendered view: this report was made without a renderer.":
        "无渲染视图：本报告生成时没有渲染器。",
    "No rendered view for this annotation.": "此标注没有渲染视图。",
    "The view could not be rendered": "视图无法渲染",
    "units": "单位",
    "Measurements": "测量",
    "Name": "名称",
    "Value": "数值",
    "Units": "单位",
    "Distance": "距离",
    "Horizontal distance": "水平距离",
    "Vertical distance": "垂直距离",
    "Height difference": "高差",
    "Polyline length": "折线长度",
    "Projected area": "投影面积",
    "Angle": "角度",
}


def check_lang(lang: str | None) -> str:
    """``en`` or ``zh`` from a language or locale name (``zh_CN``, ``zh-Hans``, None ->
    ``en``); ValueError naming the languages otherwise."""
    if not lang:
        return "en"
    code = str(lang).strip().replace("-", "_").split("_")[0].lower()
    if code not in LANGS:
        raise ValueError(f"unknown language {lang!r} (languages: {', '.join(LANGS)})")
    return code


def report_word(text: str, lang: str = "en") -> str:
    """A word of the report in ``lang`` (the English text when there is no translation)."""
    return REPORT_WORDS.get(text, text) if check_lang(lang) == "zh" else text


def _term(table: dict[str, dict[str, str]], key: str, lang: str,
          label: str | None) -> str:
    lang = check_lang(lang)
    terms = table.get(key)
    if terms is None:  # a team's own term: its label, or the key made readable
        return label if label else key.replace("_", " ").capitalize()
    if label and label != terms["en"]:
        return label  # the team renamed it: their words, as written
    return terms[lang]


def category_term(key: str, lang: str = "en", label: str | None = None) -> str:
    """The category ``key`` in ``lang``; ``label`` is the project's label for it."""
    return _term(CATEGORY_TERMS, key, lang, label)


def condition_term(key: str, lang: str = "en", label: str | None = None) -> str:
    """The condition grade ``key`` in ``lang``; ``label`` is the project's label for it."""
    return _term(CONDITION_TERMS, key, lang, label)


def kind_term(kind: str, lang: str = "en") -> str:
    return KIND_TERMS.get(kind, {}).get(check_lang(lang), kind)
