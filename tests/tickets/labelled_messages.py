"""Hand-labelled resident messages for measuring the ticket classifier.

Written before the keyword lists were tuned, in the style residents of
市南区 actually use on the community WeChat account: colloquial, sometimes
rambling, sometimes a bare fragment, with the odd typo. Labels are what a
duty officer would choose, not what the classifier happens to output, so a
few messages are deliberately hard (hypothetical fires, leaks that are a
neighbour dispute, elderly residents asking about their phones).

Each entry is ``(text, expected_category_code, expected_priority)``.
"""

LABELLED_MESSAGES: tuple[tuple[str, str, str], ...] = (
    # --- water_power 水电维修 (default high) ---
    ("古田路16号3号楼2单元402，厨房水龙头一直滴水关不严，麻烦派个师傅来看看",
     "water_power", "high"),
    ("我家卫生间马桶赌了，冲不下去，用皮搋子也不管用，能不能找人来通一下",
     "water_power", "high"),
    ("家里突然没电了，别人家都有电就我们家黑着，电闸推上去又掉下来",
     "water_power", "high"),
    ("你好，请问我们楼今天为什么停水？也没看到通知，家里老人中午饭都没法做",
     "water_power", "high"),
    ("厨房水管爆了！！水哗哗的往外喷，总阀在哪也找不到，快来人",
     "water_power", "urgent"),
    ("插上电饭锅就跳闸，卧室那一路都不来电，家里就我一个老太太不会弄，麻烦社区帮帮忙",
     "water_power", "high"),
    ("洗手盆下水道堵了 水下不去 还返味", "water_power", "high"),
    ("江西路12号楼，我家墙上插座冒火花还有焦糊味，吓死了，现在不敢用电",
     "water_power", "urgent"),
    ("卫生间地漏返水，一洗澡水就漫到客厅", "water_power", "high"),
    ("家里自来水水压特别小，放半天才一盆，是管子的问题吗", "water_power", "high"),
    ("楼道里的电表箱冒烟了，一股烧塑料的味", "water_power", "urgent"),

    # --- gas_heating 燃气暖气 (default high) ---
    ("暖气不热，摸着就是温乎的，屋里才十六度，老人冻得受不了",
     "gas_heating", "high"),
    ("一进单元门就闻到一股煤气味，不知道哪家漏的，楼道里味挺大",
     "gas_heating", "urgent"),
    ("燃气灶打不着火了，点了好几次都不行，是不是没气了", "gas_heating", "high"),
    ("暖气片接口那里漏水，地板都泡了，阀门拧不动", "gas_heating", "high"),
    ("俺家暧气今年就没热过，给热力公司打电话也打不通，一直没人管",
     "gas_heating", "high"),
    ("燃气表显示没有余额了，可我前天刚在手机上交了钱，现在做不了饭",
     "gas_heating", "high"),
    ("暖气上面热下面凉，是不是得放放气，谁能来弄一下", "gas_heating", "high"),
    ("煤气灶关了还是有味，是不是燃气泄漏了，我现在把窗户都开开了",
     "gas_heating", "urgent"),

    # --- lighting 楼道及路灯 (default normal) ---
    ("3单元楼道的灯坏了好几天了，晚上上下楼黑乎乎的，老年人容易摔着",
     "lighting", "high"),
    ("楼梯的声控灯不亮了，跺脚拍手都没反应", "lighting", "normal"),
    ("湛山二路那段路灯晚上不亮，黑咕隆咚的走路不安全", "lighting", "normal"),
    ("5楼到6楼之间那个灯一直闪，闪得人眼晕，麻烦给换一个", "lighting", "normal"),
    ("小区门口那盏路灯白天也亮着，怪浪费的", "lighting", "normal"),
    ("单元门口的灯泡憋了，能不能给换个新的", "lighting", "normal"),

    # --- sanitation 环境卫生 (default normal) ---
    ("垃圾桶满了好几天了也没人来清，味道太大了，还招苍蝇",
     "sanitation", "high"),
    ("楼下草坪里老是有狗屎，遛狗的也不收拾，孩子都踩上了",
     "sanitation", "normal"),
    ("地下室有老鼠，晚上能听到吱吱的动静，能不能来投点药",
     "sanitation", "normal"),
    ("楼道里堆的垃圾谁家的，都发臭了，麻烦管管", "sanitation", "normal"),
    ("我们这栋楼蟑螂特别多，能不能统一消杀一下", "sanitation", "normal"),
    ("分类垃圾桶旁边扔了一大堆装修垃圾，好几个月了没人清理",
     "sanitation", "normal"),

    # --- appliance 家电及手机维修 (default normal) ---
    ("家里热水器不出热水了，屏幕上显示E1，老人不会弄，谁能来给看看",
     "appliance", "normal"),
    ("我妈八十多了，微信不会用，孩子发视频她接不了，社区有没有人能教教",
     "appliance", "normal"),
    ("洗衣机不脱水了，转两下就停，社区有便民维修的吗", "appliance", "normal"),
    ("空调不制冷 吹出来都是热风", "appliance", "normal"),
    ("抽油烟机声音很大还不怎么吸烟，想找个师傅清洗一下", "appliance", "normal"),
    ("电视没信号了，一直显示无信号，遥控器按哪个都不管用", "appliance", "normal"),
    ("冰箱不凉了，里面的肉都化了", "appliance", "normal"),
    ("老人机不知道按了什么，字变得特别小看不见了，麻烦帮忙调一下",
     "appliance", "normal"),

    # --- elderly_care 助老服务 (default normal) ---
    ("我是独居老人，腿脚不好下不了楼，想问问社区能不能上门理发",
     "elderly_care", "high"),
    ("俺娘九十了常年卧床，想给她申请上门助浴，得怎么弄", "elderly_care", "high"),
    ("社区老年食堂还给送餐吗，我一个人做饭不方便", "elderly_care", "normal"),
    ("下周二要去市立医院复查，孩子都在外地，能不能找个志愿者陪我去",
     "elderly_care", "normal"),
    ("我父亲有点老年痴呆，早上出门到现在还没回来，求社区帮忙找找",
     "elderly_care", "urgent"),
    ("想给家里老人约个上门理发，一般什么时间能来", "elderly_care", "normal"),
    ("我家老头在卫生间摔倒了起不来，家里就我们俩，谁能来帮帮忙",
     "elderly_care", "urgent"),
    ("对门的孙大娘一个人住，好几天没见她出门了，敲门也没人应，怕出事",
     "elderly_care", "urgent"),

    # --- property 物业管理 (default normal) ---
    ("电梯又坏了，我们住18楼，老人上不去也下不来，物业说等配件",
     "property", "normal"),
    ("小区门禁卡刷不开了，外面的人随便进出，物业也不管", "property", "normal"),
    ("顶楼房顶漏雨，墙皮都泡掉了，找物业好几次了一直没人管",
     "property", "high"),
    ("物业费说涨就涨了，也没开业主大会，这合理吗", "property", "normal"),
    ("小区里停车太乱了，外面的车也进来占车位，物业根本不管",
     "property", "normal"),
    ("我妈被困在电梯里了！金湖路8号楼，卡在7楼和8楼中间，打物业电话没人接",
     "property", "urgent"),
    ("单元门坏了关不上，晚上谁都能进来", "property", "normal"),

    # --- public_security 治安消防 (default high) ---
    ("楼道里有人给电动车充电，电线从窗户里扯出来的，太危险了",
     "public_security", "high"),
    ("最近小区有几个陌生人挨家挨户敲门推销，感觉不像好人",
     "public_security", "high"),
    ("昨天晚上我的电动车在楼下让人偷了，锁都撬了", "public_security", "high"),
    ("消防通道被私家车堵死了，万一着火消防车根本进不来",
     "public_security", "high"),
    ("楼道里的灭火器早过期了，有个箱子还是空的", "public_security", "high"),
    ("对门着火了！冒黑烟，快叫消防！", "public_security", "urgent"),
    ("有人打电话说是社保局的让我转账，我妈差点就转了，这是不是诈骗",
     "public_security", "high"),
    ("五楼楼道堆满了纸壳子和旧家具，把楼梯都堵了，真着了火都跑不出去",
     "public_security", "high"),

    # --- city_management 市容市政 (default normal) ---
    ("南京路和香港中路路口那有个井盖没了，晚上黑看不见，太危险了",
     "city_management", "urgent"),
    ("路边小摊占道经营，早上一堆卖菜的把路都堵了", "city_management", "normal"),
    ("晚上十一点多了旁边工地还在施工，吵得睡不着觉", "city_management", "normal"),
    ("人行道上的砖都翘起来了，老人走路容易绊倒", "city_management", "normal"),
    ("路边那棵大树的树枝快断了，耷拉在电线上，刮风怕砸着人",
     "city_management", "high"),
    ("马路上有个大坑，下雨积了水看不见，电动车摔了好几个",
     "city_management", "high"),
    ("路边违停太严重了，公交车都过不去", "city_management", "normal"),

    # --- neighbour 邻里纠纷 (default normal) ---
    ("楼上天天晚上拖椅子蹦跶，十二点了还不消停，上去说了也不听",
     "neighbour", "normal"),
    ("楼上漏水把我家卫生间天花板都泡了，找他们家也不开门", "neighbour", "normal"),
    ("对门家的狗一天到晚叫，孩子没法学习", "neighbour", "normal"),
    ("邻居把鞋柜放在公共楼道里，跟他说了两句还吵起来了", "neighbour", "normal"),
    ("楼上装修天天砸墙，周末一大早就开始叮叮当当", "neighbour", "normal"),
    ("楼上家里水漫了，水顺着我家吊灯往下流，快来人啊", "neighbour", "urgent"),

    # --- consultation 政策咨询 (default low) ---
    ("请问退休人员医保报销比例是多少，去哪办", "consultation", "low"),
    ("想问一下低保怎么申请，需要准备什么材料", "consultation", "low"),
    ("居住证在哪里办理？外地来青岛打工的", "consultation", "low"),
    ("老年优待证怎么办，要带身份证和照片吗", "consultation", "low"),
    ("孩子上学要开居住证明，社区能开吗", "consultation", "low"),
    ("养老金资格认证在哪认证，去年是社区给弄的", "consultation", "low"),
    ("灵活就业的社保怎么交，一个月多少钱", "consultation", "low"),

    # --- suggestion 意见建议 (default low) ---
    ("建议社区在小广场多放几个长椅，老人遛弯累了能歇歇脚", "suggestion", "low"),
    ("希望社区多组织点老年人活动，像以前那样的合唱团", "suggestion", "low"),
    ("提个意见，社区办事大厅中午能不能不休息，上班的人只能中午来",
     "suggestion", "low"),
    ("小区能不能加装几个充电桩，省得大家往楼上拉线", "suggestion", "low"),
    ("社区工作人员态度挺好，就是公众号通知发得太晚了，希望能早点发",
     "suggestion", "low"),

    # --- other 其他 (default normal) ---
    ("你好", "other", "normal"),
    ("在吗？", "other", "normal"),
    ("谢谢社区的帮助，王主任人很好", "other", "normal"),
    ("我想找一下李书记，她电话多少", "other", "normal"),
    ("在路边捡到一个钱包，里面有身份证，交给谁", "other", "normal"),
)
