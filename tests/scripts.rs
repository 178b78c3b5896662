//! Reprints in other languages and scripts: truncated, wrapped in a site's
//! own furniture, with a few characters edited, and with the punctuation
//! stripped, must group with their original, and apart from another story
//! in the same language.

use wirecluster::{Clusterer, Config, Document};

/// (language, original dispatch, another story in the same language, a
/// site header, a site footer)
const CASES: [(&str, &str, &str, &str, &str); 6] = [
    (
        "zh",
        "国家统计局周三公布的数据显示，今年第三季度国内生产总值同比增长百分之四点九，略低于市场预期。分析人士指出，房地产市场持续低迷和出口需求疲软是拖累经济增长的主要因素。政府表示将继续加大财政支持力度，扩大基础设施投资，并出台更多措施提振居民消费。多家国际机构近期下调了对中国全年经济增长的预测。",
        "一场强台风周二在南部沿海登陆，造成大范围停电和交通中断。气象部门发布红色预警，要求沿海居民转移到安全地带。当地政府已经组织数万名救援人员待命，学校和工厂全部停课停工。据初步统计，台风已造成至少三人死亡，数十人受伤，农作物受灾面积超过十万公顷。",
        "本网讯 记者 王明",
        "责任编辑：李华 欢迎关注我们的微信公众号获取更多新闻",
    ),
    (
        "ja",
        "気象庁は水曜日、大型の台風十号が週末にかけて九州南部に接近する見通しだと発表した。非常に強い勢力を保ったまま北上しており、暴風や高波、大雨による土砂災害に厳重な警戒を呼びかけている。航空各社は週末の便の欠航を相次いで決め、鉄道会社も計画運休を検討している。政府は関係閣僚会議を開き、住民の早めの避難を促した。",
        "日本銀行は金曜日の金融政策決定会合で、政策金利を据え置くことを賛成多数で決めた。植田総裁は記者会見で、賃金と物価の好循環が続いているかを慎重に見極める必要があると述べた。市場では年内の追加利上げを予想する声が多く、会見後に円相場は小幅に上昇した。",
        "ニュース速報　地域新聞デジタル",
        "この記事の続きは会員登録でお読みいただけます　関連記事をもっと見る",
    ),
    (
        "th",
        "กรมอุตุนิยมวิทยาประกาศเตือนว่าพายุโซนร้อนจะเคลื่อนตัวเข้าสู่ภาคตะวันออกเฉียงเหนือในวันพฤหัสบดี ทำให้มีฝนตกหนักถึงหนักมากในหลายจังหวัด ประชาชนที่อาศัยอยู่บริเวณที่ลุ่มและริมน้ำควรระวังน้ำท่วมฉับพลันและน้ำป่าไหลหลาก หน่วยงานท้องถิ่นได้เตรียมศูนย์อพยพและเครื่องสูบน้ำไว้พร้อมแล้ว",
        "ธนาคารแห่งประเทศไทยมีมติคงอัตราดอกเบี้ยนโยบายไว้ที่ระดับเดิม โดยคณะกรรมการนโยบายการเงินเห็นว่าเศรษฐกิจยังฟื้นตัวต่อเนื่องจากการท่องเที่ยวและการบริโภคภาคเอกชน แม้การส่งออกจะชะลอตัวลงในไตรมาสที่ผ่านมา นักวิเคราะห์คาดว่าจะมีการปรับลดดอกเบี้ยในปีหน้า",
        "ข่าวด่วน สำนักข่าวท้องถิ่น",
        "ติดตามข่าวสารเพิ่มเติมได้ที่เพจของเรา กดไลก์และแชร์เพื่อไม่พลาดข่าวสำคัญ",
    ),
    (
        "ar",
        "أعلنت وزارة الصحة يوم الأربعاء عن إطلاق حملة وطنية للتطعيم ضد شلل الأطفال تستهدف أكثر من مليوني طفل في جميع المحافظات. وقال الوزير في مؤتمر صحفي إن فرق التطعيم ستزور المنازل والمدارس خلال الأسبوعين المقبلين، داعيا الأهالي إلى التعاون مع العاملين الصحيين. وأضاف أن الحملة تأتي بعد رصد حالات جديدة في دول مجاورة.",
        "ارتفعت أسعار النفط في الأسواق العالمية بعد أن قررت الدول المنتجة تمديد خفض الإنتاج حتى نهاية العام المقبل. وصعد خام برنت بأكثر من اثنين في المئة في التعاملات المبكرة، بينما توقع محللون أن تستمر الأسعار في الارتفاع مع تراجع المخزونات الأمريكية وزيادة الطلب في آسيا.",
        "خاص بموقعنا الإخباري",
        "تابعونا على مواقع التواصل الاجتماعي للمزيد من الأخبار العاجلة وجميع الحقوق محفوظة للموقع",
    ),
    (
        "ru",
        "Центральный банк в пятницу повысил ключевую ставку на два процентных пункта, объяснив решение ускорением инфляции и ослаблением рубля. Председатель банка заявила, что регулятор готов и дальше ужесточать денежно-кредитную политику, если цены продолжат расти. Аналитики отмечают, что высокая ставка замедлит кредитование и рост экономики в следующем году.",
        "Сильное землетрясение магнитудой шесть баллов произошло в среду у побережья Камчатки. По данным спасателей, разрушений и пострадавших нет, однако в нескольких населённых пунктах объявили угрозу цунами. Жителей прибрежных районов призвали подняться на возвышенности до отмены тревоги.",
        "Новости региона | Наш корреспондент",
        "Подписывайтесь на наш канал в мессенджере, чтобы первыми узнавать главные новости дня",
    ),
    (
        "de",
        "Die Bundesregierung hat am Mittwoch ein Entlastungspaket für Familien und Rentner beschlossen. Der Finanzminister sagte bei der Vorstellung in Berlin, die Maßnahmen sollten vor allem Haushalte mit niedrigen Einkommen unterstützen. Vorgesehen sind unter anderem ein höheres Kindergeld, ein Zuschuss zu den Heizkosten und eine befristete Senkung der Mehrwertsteuer auf Lebensmittel. Die Opposition kritisierte das Paket als zu spät und zu klein.",
        "Ein schweres Unwetter hat in der Nacht zum Samstag in Teilen Bayerns große Schäden angerichtet. Umgestürzte Bäume blockierten Straßen und Bahnstrecken, zahlreiche Keller liefen voll. Die Feuerwehr rückte zu mehr als tausend Einsätzen aus. Verletzt wurde nach ersten Angaben niemand, der Bahnverkehr soll am Sonntag wieder anlaufen.",
        "Regionalnachrichten aus erster Hand",
        "Alle Rechte vorbehalten. Lesen Sie auch unsere weiteren Artikel zum Thema Wirtschaft und Politik",
    ),
];

/// The first `share` of the text, by characters.
fn truncated(text: &str, share: f64) -> String {
    let n = text.chars().count();
    text.chars().take((n as f64 * share) as usize).collect()
}

/// A few characters edited: every 50th letter in scripts without spaces
/// (10 of 500, one word in 25 or so), every 120th elsewhere (one word in 20
/// or so), replaced by the letter before it.
fn edited(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let every = if text.contains(' ') { 120 } else { 50 };
    (0..chars.len())
        .map(|i| {
            if i % every == every - 1 && chars[i].is_alphabetic() {
                chars[i - 1]
            } else {
                chars[i]
            }
        })
        .collect()
}

fn without_punctuation(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_ascii_punctuation() && !"，。、；：！？«»“”".contains(*c))
        .collect()
}

#[test]
fn reprints_in_other_scripts_group_with_their_original() {
    for (lang, original, other, header, footer) in CASES {
        let docs = vec![
            Document::new(format!("{lang}-original"), original),
            Document::new(
                format!("{lang}-furnished"),
                format!("{header}\n{original}\n{footer}"),
            ),
            Document::new(format!("{lang}-truncated"), truncated(original, 0.7)),
            Document::new(
                format!("{lang}-edited"),
                format!("{header}\n{}", edited(original)),
            ),
            Document::new(format!("{lang}-bare"), without_punctuation(original)),
            Document::new(
                format!("{lang}-bare-edited"),
                edited(&without_punctuation(original)),
            ),
            Document::new(format!("{lang}-other"), other),
        ];
        let c = Clusterer::new(Config::default())
            .unwrap()
            .cluster(&docs)
            .unwrap();
        let original_group = &c.assignments[0].duplicate_group;
        for a in &c.assignments[1..6] {
            assert_eq!(
                &a.duplicate_group, original_group,
                "{lang}: {} apart from the original",
                a.id
            );
        }
        assert_ne!(
            &c.assignments[6].duplicate_group, original_group,
            "{lang}: another story joined"
        );
    }
}

/// Two Chinese outlets' own accounts of one typhoon are one story, apart
/// from a report on the economy: names cannot be told by capitals in a
/// script without case, so all its words may count as names.
#[test]
fn rewrites_in_a_caseless_script_form_one_story() {
    let typhoon = CASES[0].2;
    let rewrite = "周二，强台风登陆南部沿海地区，导致多地停电、交通受阻。气象部门启动红色预警，要求沿海居民撤离到安全区域。地方政府组织数万名救援人员随时待命，所有学校和工厂暂停运营。初步统计显示，此次台风至少导致三人遇难、数十人受伤，超过十万公顷农田受灾。";
    let docs = vec![
        Document::new("typhoon", typhoon),
        Document::new("typhoon-rewrite", rewrite),
        Document::new("economy", CASES[0].1),
    ];
    let c = Clusterer::new(Config::default())
        .unwrap()
        .cluster(&docs)
        .unwrap();
    let a = &c.assignments;
    assert_ne!(
        a[0].duplicate_group, a[1].duplicate_group,
        "a rewrite, not a reprint"
    );
    assert_eq!(a[0].story, a[1].story);
    assert_ne!(a[0].story, a[2].story);
}
