"""Hand-labelled short messages for measuring what opens a ticket from a WeChat note.

Written as residents of 市南区 type (or WeChat recognises from their voice) on the community account:
the courtesy that follows a reply or a repair, greetings before anything is said, faces and stickers, and
terse real reports that must never be mistaken for courtesy, however short, including ones that start
politely ("在吗？家里停水了") or thank for an earlier repair before telling a new problem.

SMALL_TALK should get a friendly reply and no ticket; REPORTS must each open a ticket.
"""

SMALL_TALK: tuple[str, ...] = (
    # thanks
    "谢谢", "谢谢！", "谢谢谢谢", "谢谢你们", "谢谢您", "谢谢师傅", "谢谢社区", "多谢", "多谢了",
    "非常感谢", "太感谢了", "感谢社区", "感谢你们的帮助", "谢谢你们的帮忙！", "辛苦了", "师傅辛苦了",
    "你们辛苦了！", "麻烦你们了", "麻烦了，谢谢", "谢谢，辛苦了", "好的谢谢", "好的，谢谢您",
    "收到，谢谢", "已经修好了，谢谢", "修好了，谢谢师傅", "谢谢你们这么快", "谢谢啦😊", "感恩",
    "好人一生平安", "谢谢[玫瑰][玫瑰]", "谢谢 👍", "Thank you", "谢谢小姑娘", "太好了谢谢",
    # acknowledgements
    "好", "好的", "好的。", "好滴", "好嘞", "好吧", "嗯", "嗯嗯", "嗯嗯嗯", "哦", "哦哦", "收到",
    "收到了", "知道了", "知道了，谢谢", "明白", "明白了", "行", "行的", "可以", "没问题", "OK",
    "ok的", "好的，我等着", "好的，等你们电话", "是的", "对", "对的", "哈哈", "666",
    # greetings
    "您好", "你好", "你好！", "你们好", "在吗", "在吗？", "在吗在吗", "有人吗", "有人在吗？",
    "您好，在吗", "早上好", "下午好", "晚上好", "早", "新年快乐", "过年好！", "中秋节快乐",
    "你好，打扰了", "再见", "拜拜",
    # faces, emoji and stickers
    "👍", "👍👍👍", "🙏", "🙏🙏", "😊", "🌹🌹🌹", "[强]", "[强][强]", "[抱拳]", "[玫瑰]", "[微笑]",
    "[握手]", "[OK]", "[Thumbs Up]", "/::)", "/:strong", "【收到不支持的消息类型，暂无法显示】", "？",
    "。。。", "👍🏻", "棒棒哒",
    # courtesy the lists do not know: it opens a ticket (a known, accepted error; when unsure, a ticket)
    "给你们点个赞",
)

REPORTS: tuple[str, ...] = (
    # terse reports: a word or three
    "灯坏了", "没水了", "电梯", "漏水", "有人摔倒了", "停电", "救命", "停水", "没电了", "暖气不热",
    "楼道灯不亮", "电梯坏了", "电梯又坏了", "马桶堵了", "下水道堵了", "煤气味", "着火了", "水管爆了",
    "漏雨", "井盖丢了", "垃圾没人清", "老鼠", "有蟑螂", "门禁坏了", "路灯不亮", "楼上漏水",
    "太吵了", "噪音", "有小偷", "跳闸了", "插座冒火花", "没热水", "燃气灶打不着火", "暖气片漏水",
    "水龙头坏了", "声控灯坏了", "暖气", "路灯", "垃圾", "快来人", "我摔倒了起不来", "老伴走丢了",
    "门打不开了", "钥匙锁屋里了", "屋里好冷", "家里没暖气", "有人在楼道抽烟", "楼下烧烤太呛",
    "车位被占了", "狗屎", "树枝断了", "冒烟了",
    # politeness first, a problem after
    "在吗？家里停水了", "你好，灯坏了", "您好，电梯坏了", "你好 停电了", "在吗 漏水", "有人吗？救命",
    "谢谢，楼道灯还是不亮", "谢谢你们上次修好了灯，这次是水管漏了", "好的，但是还在漏水",
    "谢谢，可是暖气还是不热", "收到，什么时候来修", "好的，明天上午几点来",
    # short words that look like courtesy but are not
    "好冷啊暖气不热", "好臭", "好黑", "不好了", "还没修好", "修好了吗", "没人来", "一直没人管",
    "好几天了", "又坏了", "还是不行", "没修好", "有人敲门", "😭", "🥶", "🔥", "[流泪]", "[大哭]",
    "帮帮忙", "来人啊", "救救我",
)
