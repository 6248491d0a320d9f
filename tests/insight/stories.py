"""Reports written for the insight stories: five residents of one compound, and others."""

from __future__ import annotations

# Five people, five wordings, one matter: the fumes and night noise of the ground-floor
# restaurants of 幸福里小区.
COMPOUND = [
    (
        "幸福里小区底层饭店油烟扰民",
        "幸福里小区一楼的饭店油烟直接排到楼上，晚上开窗全是油烟味，请管一管。",
        "13905330001",
    ),
    (
        "幸福里小区楼下饭店深夜噪音和油烟",
        "我家住幸福里小区3号楼，楼下饭店每天营业到凌晨，油烟和噪音让人无法休息。",
        "13905330002",
    ),
    (
        "投诉幸福里小区临街饭店油烟直排",
        "幸福里小区临街的几家饭店没有油烟净化设备，油烟直排进小区，老人孩子受不了。",
        "13905330003",
    ),
    (
        "幸福里小区一楼餐馆油烟噪音严重",
        "幸福里小区一楼餐馆排烟管道对着住户窗户，油烟大、噪音大，多次反映没人处理。",
        "13905330004",
    ),
    (
        "再次反映幸福里小区饭店油烟问题",
        "幸福里小区底商饭店油烟扰民的问题还是没有解决，夏天根本不敢开窗。",
        "13905330005",
    ),
]
OTHERS = [
    (
        "建设路路灯不亮",
        "建设路中段三盏路灯坏了一个月，晚上走路很不安全，希望尽快修好。",
        "13905330011",
    ),
    (
        "实验小学门口交通拥堵",
        "每天早上实验小学门口接送孩子的车辆乱停，道路堵死，希望交警疏导。",
        "13905330012",
    ),
    ("李家村垃圾无人清运", "李家村村口的垃圾堆了半个月没人清运，气味很大。", "13905330013"),
]


def payload(title: str, text: str, phone: str) -> dict[str, object]:
    return {
        "title": title,
        "text": text,
        "anonymous": False,
        "contact": {"name": "市民", "phone": phone},
    }


# The same matter told without titles, as citizens write to a leader: salutation first, then
# who they are, then the matter (the service makes a title of the opening words).
POLITE = [
    (
        "尊敬的领导：您好！我是幸福里小区的业主，小区一楼饭店油烟直排，楼上住户无法开窗。"
        "请尽快处理，谢谢！",
        "13905330021",
    ),
    (
        "尊敬的区长您好！本人是幸福里小区3栋居民，楼下饭店油烟直排，夜里还很吵。",
        "13905330022",
    ),
    ("领导您好，我是幸福里小区住户。小区底层饭店油烟直排扰民，希望管一管。", "13905330023"),
    ("您好！幸福里小区饭店油烟直排进楼道，老人孩子都受不了，万分感谢！", "13905330024"),
    ("尊敬的书记：幸福里小区一楼饭店油烟直排，多次反映无果。", "13905330025"),
]


# One matter that keeps coming back: the underground garage of 青山苑小区 floods whenever it
# rains, reported by different residents in spring, again in summer and again the next spring,
# with months of quiet between (days after the first report, title, text, phone).
RECURRING = [
    (
        0,
        "青山苑小区地下车库雨后积水",
        "青山苑小区地下车库一下雨就积水，车辆被泡，排水泵不工作。",
        "13905330031",
    ),
    (
        3,
        "青山苑小区车库积水泡车",
        "下雨后青山苑小区地下车库积水半米深，排水设施坏了没人修。",
        "13905330032",
    ),
    (
        6,
        "青山苑车库又积水了",
        "青山苑小区地下车库排水不畅，雨天积水淹到车轮，请物业修排水泵。",
        "13905330033",
    ),
    (
        140,
        "青山苑小区地下车库积水问题还没解决",
        "今天大雨青山苑小区地下车库又积水，排水泵还是坏的。",
        "13905330034",
    ),
    (
        143,
        "青山苑小区车库雨天积水淹车",
        "青山苑小区地下车库雨天积水严重，车被泡了，排水问题一直没修。",
        "13905330035",
    ),
    (
        330,
        "青山苑小区地下车库积水",
        "青山苑小区地下车库下雨又积水，排水泵从去年坏到现在。",
        "13905330036",
    ),
]
# Another matter at the same compound, between those episodes: its lifts (not the garage).
SAME_PLACE_OTHER_MATTER = [
    (
        220,
        "青山苑小区电梯经常困人",
        "青山苑小区3栋电梯这个月困人两次，维保单位不来检修。",
        "13905330041",
    ),
    (
        224,
        "青山苑小区电梯故障频繁",
        "青山苑小区电梯门关不上还经常停在半层，年检是否合格？",
        "13905330042",
    ),
]
