//! Comment texts: templates filled from phrase pools per aspect (quality, delivery, packaging,
//! service, price, effect, fit) and tone, in Chinese and English, with mixed-tone clauses and
//! negations (不/没, not/never) so that a sentiment model cannot simply memorise whole texts.
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The tone a comment is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    /// Happy.
    Positive,
    /// Neither.
    Neutral,
    /// Unhappy.
    Negative,
}

/// One aspect's phrases: positive, neutral, negative.
type Aspect = [&'static [&'static str]; 3];

const ZH_ASPECTS: &[Aspect] = &[
    [
        &[
            "质量很好",
            "质量非常好",
            "质量超出预期",
            "品质没得说",
            "质量不错",
            "做工很精细",
        ],
        &["质量一般", "质量还行", "质量中规中矩", "做工普通"],
        &[
            "质量太差了",
            "质量不好",
            "质量跟描述的不一样",
            "用了两天就坏了",
            "做工粗糙",
            "线头很多",
        ],
    ],
    [
        &[
            "物流很快",
            "发货速度快",
            "第二天就到了",
            "快递小哥很负责",
            "物流也快",
        ],
        &["物流速度一般", "快递慢了一点但能接受", "物流还可以"],
        &[
            "物流太慢了",
            "等了一个多星期才到",
            "快递一直不更新",
            "发货拖拖拉拉",
            "物流没人管",
        ],
    ],
    [
        &["包装很精致", "包装严实", "包装很用心", "送人很有面子"],
        &["包装普通", "包装简单", "包装就是个塑料袋"],
        &["包装破损", "盒子都压坏了", "包装很随便", "收到的时候漏了"],
    ],
    [
        &[
            "客服很耐心",
            "客服回复很及时",
            "售后很贴心",
            "群里的小助手很热情",
        ],
        &["客服回复有点慢", "客服态度还行", "售后流程有点繁琐"],
        &[
            "客服态度差",
            "客服不理人",
            "售后推来推去",
            "问了好几次都没人回",
            "退款一直不处理",
        ],
    ],
    [
        &["性价比很高", "价格实惠", "活动价很划算", "会员价很香"],
        &["价格不算便宜", "价格中等", "优惠力度一般"],
        &[
            "不值这个价",
            "太贵了",
            "比别家贵不少",
            "降价了也不补差价",
            "优惠券用不了",
        ],
    ],
    [
        &[
            "味道很正",
            "效果很明显",
            "口感很好",
            "用起来很舒服",
            "孩子很喜欢",
        ],
        &["味道一般", "效果还要再观察", "口感普通", "和之前的差不多"],
        &[
            "味道很奇怪",
            "没什么效果",
            "口感很差",
            "用了过敏",
            "和宣传的完全不一样",
        ],
    ],
    [
        &["尺码很准", "颜色和图片一样", "款式很好看", "上身效果很好"],
        &["颜色比图片暗一点", "尺码偏大一点点", "款式比较普通"],
        &[
            "尺码偏小穿不了",
            "颜色和图片差很多",
            "款式跟图片完全不一样",
            "有明显色差",
        ],
    ],
];

/// Phrases whose tone hinges on a negation (不/没).
const ZH_NEGATED: Aspect = [
    &[
        "没有任何问题",
        "一点也不差",
        "没有色差",
        "没想到这么好",
        "不会失望的",
        "没有异味",
    ],
    &["不好不坏", "没什么特别的", "说不上好也说不上差"],
    &[
        "不是很满意",
        "没有想象中好",
        "一点也不好用",
        "不推荐购买",
        "不怎么样",
        "没有描述的那么好",
    ],
];

const ZH_OPENERS: &[&str] = &[
    "",
    "",
    "",
    "",
    "第二次买了",
    "朋友推荐的",
    "收到了",
    "给家人买的",
    "直播间买的",
    "群里抢的",
    "活动买的",
    "老顾客了",
    "试试看买的",
];

const ZH_CLOSINGS: Aspect = [
    &[
        "下次还买",
        "会回购的",
        "推荐给朋友了",
        "非常满意",
        "五星好评",
        "已经回购好几次了",
        "值得购买",
        "给个好评",
    ],
    &[
        "再看看吧",
        "先用用看",
        "还行吧",
        "凑合用",
        "看后续效果",
        "中规中矩吧",
    ],
    &[
        "不会再买了",
        "要退货",
        "很失望",
        "不推荐",
        "再也不来了",
        "已经申请退款",
        "差评",
        "后悔买了",
    ],
];

const ZH_BUT: &[&str] = &["，就是", "，但是", "，不过", "，可惜"];
const ZH_ENDINGS: &[&str] = &["。", "！", "", "~", "。。", "！！"];

const EN_ASPECTS: &[Aspect] = &[
    [
        &[
            "great quality",
            "excellent quality",
            "really well made",
            "quality is better than expected",
        ],
        &[
            "quality is okay",
            "average quality",
            "quality is fine for the price",
        ],
        &[
            "poor quality",
            "broke after two days",
            "cheaply made",
            "quality is not what was described",
        ],
    ],
    [
        &["fast delivery", "arrived the next day", "quick shipping"],
        &["delivery was a bit slow", "shipping took a few days"],
        &[
            "delivery took forever",
            "package arrived late",
            "tracking never updated",
        ],
    ],
    [
        &["nicely packaged", "packaging was perfect"],
        &["simple packaging", "plain packaging"],
        &[
            "package arrived damaged",
            "box was crushed",
            "it leaked in the box",
        ],
    ],
    [
        &[
            "helpful customer service",
            "support replied quickly",
            "the group assistant was very kind",
        ],
        &["support was slow to reply", "service was fine"],
        &[
            "rude customer service",
            "nobody answered my messages",
            "support kept passing me around",
        ],
    ],
    [
        &[
            "good value for money",
            "great deal",
            "member price is a steal",
        ],
        &["a bit pricey", "price is fair"],
        &[
            "not worth the money",
            "overpriced",
            "price dropped right after I bought it",
        ],
    ],
    [
        &["tastes great", "works really well", "my kids love it"],
        &[
            "taste is average",
            "too early to tell if it works",
            "same as the old one",
        ],
        &[
            "tastes strange",
            "does not work at all",
            "gave me a rash",
            "nothing like the ad",
        ],
    ],
    [
        &[
            "fits perfectly",
            "color matches the photos",
            "looks great on",
        ],
        &["runs a little large", "color is a bit darker than shown"],
        &[
            "runs small",
            "color looks nothing like the photos",
            "the \"premium\" finish is fake",
        ],
    ],
];

const EN_NEGATED: Aspect = [
    &[
        "no complaints at all",
        "nothing to dislike",
        "can't fault it",
        "not a single problem",
    ],
    &["not bad, not great", "nothing special"],
    &[
        "not happy with it",
        "not as good as I expected",
        "would not recommend",
        "never again",
    ],
];

const EN_CLOSINGS: Aspect = [
    &[
        "will buy again",
        "highly recommend",
        "love it",
        "five stars",
        "already ordered another one",
    ],
    &["it's okay", "we'll see", "does the job", "might try again"],
    &[
        "will not buy again",
        "asking for a refund",
        "very disappointed",
        "never ordering here again",
        "returning it",
    ],
];

const EN_BUT: &[&str] = &[" but ", ", but ", ", although ", " though "];
const EN_ENDINGS: &[&str] = &[".", "!", "", "!!", "..."];

/// The closing phrases of negative texts (Chinese and English), for tests and callers that
/// want to recognise unambiguous complaints.
#[cfg(test)]
pub(crate) fn negative_closings() -> impl Iterator<Item = &'static str> {
    ZH_CLOSINGS[2].iter().chain(EN_CLOSINGS[2].iter()).copied()
}

fn idx(t: Tone) -> usize {
    match t {
        Tone::Positive => 0,
        Tone::Neutral => 1,
        Tone::Negative => 2,
    }
}

fn pick<'a>(rng: &mut ChaCha8Rng, xs: &[&'a str]) -> &'a str {
    xs[rng.gen_range(0..xs.len())]
}

fn opposite(t: Tone) -> Tone {
    match t {
        Tone::Positive => Tone::Negative,
        Tone::Negative => Tone::Positive,
        Tone::Neutral => Tone::Neutral,
    }
}

/// A plan of clauses: (phrase, is a contrast to the main tone).
fn clauses(
    rng: &mut ChaCha8Rng,
    tone: Tone,
    aspects: &[Aspect],
    negated: &Aspect,
    out: &mut Vec<(&'static str, bool)>,
) {
    out.clear();
    let n = match rng.gen_range(0..10) {
        0..=3 => 1,
        4..=7 => 2,
        _ => 3,
    };
    let mut used = [false; 8];
    for k in 0..n {
        let mut a = rng.gen_range(0..aspects.len());
        while used[a] {
            a = (a + 1) % aspects.len();
        }
        used[a] = true;
        // Mostly the main tone; the last clause may contrast ("质量不错，就是物流有点慢").
        let u: f64 = rng.gen();
        let (t, contrast) = if k > 0 && k == n - 1 && u < 0.25 {
            if tone == Tone::Neutral {
                (Tone::Negative, true)
            } else {
                (Tone::Neutral, true)
            }
        } else if k > 0 && k == n - 1 && u < 0.30 {
            (opposite(tone), tone != Tone::Neutral)
        } else {
            (tone, false)
        };
        let pool = if rng.gen_bool(0.18) {
            negated[idx(t)]
        } else {
            aspects[a][idx(t)]
        };
        out.push((pick(rng, pool), contrast));
    }
}

/// Writes a Chinese (`english == false`) or English comment of the given tone into `out`
/// (cleared first).
pub(crate) fn write_comment(rng: &mut ChaCha8Rng, tone: Tone, english: bool, out: &mut String) {
    out.clear();
    let mut plan = Vec::with_capacity(3);
    if english {
        clauses(rng, tone, EN_ASPECTS, &EN_NEGATED, &mut plan);
        for (i, (p, contrast)) in plan.iter().enumerate() {
            if i > 0 {
                out.push_str(if *contrast { pick(rng, EN_BUT) } else { ", " });
            }
            if i == 0 {
                let mut cs = p.chars();
                if let Some(c) = cs.next() {
                    out.extend(c.to_uppercase());
                    out.push_str(cs.as_str());
                }
            } else {
                out.push_str(p);
            }
        }
        if rng.gen_bool(0.7) {
            out.push_str(if rng.gen_bool(0.5) { ", " } else { ". " });
            out.push_str(pick(rng, EN_CLOSINGS[idx(tone)]));
        }
        out.push_str(pick(rng, EN_ENDINGS));
    } else {
        let opener = pick(rng, ZH_OPENERS);
        // A tenth of Chinese texts use an ASCII comma, as typed on many keyboards.
        let comma = if rng.gen_bool(0.1) { "," } else { "，" };
        if !opener.is_empty() {
            out.push_str(opener);
            out.push_str(comma);
        }
        clauses(rng, tone, ZH_ASPECTS, &ZH_NEGATED, &mut plan);
        for (i, (p, contrast)) in plan.iter().enumerate() {
            if i > 0 {
                out.push_str(if *contrast { pick(rng, ZH_BUT) } else { comma });
            }
            out.push_str(p);
        }
        if rng.gen_bool(0.7) {
            out.push_str(comma);
            out.push_str(pick(rng, ZH_CLOSINGS[idx(tone)]));
        }
        out.push_str(pick(rng, ZH_ENDINGS));
    }
}

/// A 1–5 rating consistent with `tone`, with noise.
pub(crate) fn rating(rng: &mut ChaCha8Rng, tone: Tone) -> u8 {
    let u: f64 = rng.gen();
    match tone {
        Tone::Positive => {
            if u < 0.62 {
                5
            } else if u < 0.93 {
                4
            } else {
                3
            }
        }
        Tone::Neutral => {
            if u < 0.25 {
                4
            } else if u < 0.75 {
                3
            } else {
                2
            }
        }
        Tone::Negative => {
            if u < 0.5 {
                1
            } else if u < 0.85 {
                2
            } else {
                3
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::collections::HashSet;

    #[test]
    fn many_distinct_texts_in_both_languages() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut s = String::new();
        for english in [false, true] {
            let mut seen = HashSet::new();
            for i in 0..3000 {
                let tone = [Tone::Positive, Tone::Neutral, Tone::Negative][i % 3];
                write_comment(&mut rng, tone, english, &mut s);
                assert!(!s.is_empty());
                seen.insert(s.clone());
            }
            assert!(seen.len() > 1000, "only {} distinct texts", seen.len());
        }
    }

    #[test]
    fn ratings_follow_tone() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mean = |t: Tone, rng: &mut ChaCha8Rng| {
            (0..4000).map(|_| rating(rng, t) as f64).sum::<f64>() / 4000.0
        };
        let (p, n, g) = (
            mean(Tone::Positive, &mut rng),
            mean(Tone::Neutral, &mut rng),
            mean(Tone::Negative, &mut rng),
        );
        // Closed forms: 5·.62+4·.31+3·.07 = 4.55; 4·.25+3·.5+2·.25 = 3.0; 1·.5+2·.35+3·.15 = 1.65.
        assert!((p - 4.55).abs() < 0.05, "{p}");
        assert!((n - 3.0).abs() < 0.05, "{n}");
        assert!((g - 1.65).abs() < 0.05, "{g}");
    }
}
