//! Hand-worked gain curves and migration matrices; the page holds every chart id.
use super::*;
use crate::kpi::{read_scores_from, KpiParams};

fn row(id: &str, v: f64, t: Tier) -> ScoreRow {
    ScoreRow {
        customer_id: id.into(),
        predicted_value: v,
        lifecycle_stage: "active".into(),
        tier: t,
    }
}

#[test]
fn gain_curve_by_hand() {
    // Ranked 3, 2, 1, 0 → actual 10, 0, 5, 5 of 20.
    let g = gain_curve(&[1.0, 3.0, 0.0, 2.0], &[5.0, 10.0, 5.0, 0.0]).unwrap();
    assert_eq!(
        g,
        vec![
            (0.0, 0.0),
            (0.25, 0.5),
            (0.5, 0.5),
            (0.75, 0.75),
            (1.0, 1.0)
        ]
    );
    // A tie group is one step, whatever the input order.
    let a = gain_curve(&[2.0, 2.0, 1.0], &[4.0, 0.0, 4.0]).unwrap();
    let b = gain_curve(&[2.0, 2.0, 1.0], &[0.0, 4.0, 4.0]).unwrap();
    assert_eq!(a, vec![(0.0, 0.0), (2.0 / 3.0, 0.5), (1.0, 1.0)]);
    assert_eq!(a, b);
    assert!(gain_curve(&[1.0], &[0.0]).is_none());
}

#[test]
fn gain_curve_from_a_decile_table() {
    let mut d: Vec<DecileRow> = (1..=10)
        .map(|i| DecileRow {
            decile: i,
            count: 0,
            mean_predicted: None,
            mean_actual: None,
        })
        .collect();
    d[0] = DecileRow {
        decile: 1,
        count: 3,
        mean_predicted: Some(5.0),
        mean_actual: Some(10.0),
    };
    d[9] = DecileRow {
        decile: 10,
        count: 1,
        mean_predicted: Some(20.0),
        mean_actual: Some(30.0),
    };
    // Top decile: 1 of 4 customers with 30 of 60.
    assert_eq!(
        gain_curve_from_deciles(&d).unwrap(),
        vec![(0.0, 0.0), (0.25, 0.5), (1.0, 1.0)]
    );
}

#[test]
fn migration_matrix_by_hand() {
    let prev = [
        row("a", 9.0, Tier::A),
        row("b", 5.0, Tier::B),
        row("c", 1.0, Tier::C),
        row("d", 8.0, Tier::A),
    ];
    let cur = [
        row("a", 9.0, Tier::A),
        row("b", 9.0, Tier::A),
        row("c", 1.0, Tier::C),
        row("e", 5.0, Tier::B),
    ];
    let m = Migration::between(&prev, &cur);
    let mut want = [[0u64; 4]; 4];
    want[0][0] = 1; // a stays A
    want[1][0] = 1; // b B → A
    want[2][2] = 1; // c stays C
    want[3][1] = 1; // e is new, in B
    want[0][3] = 1; // d is gone
    assert_eq!(m.counts, want);
    assert_eq!(m.row_share(0, 0), Some(0.5));
    assert_eq!(m.row_share(3, 3), Some(0.0));
}

#[test]
fn page_has_every_chart_and_is_deterministic() {
    let opts = crate::data::ReadOptions::default();
    let as_of = crate::data::Cutoff::parse("2025-06-30", &opts.time).unwrap();
    let orders =
        "customer_id,ordered_at,amount\na,2025-03-01,10\na,2025-03-02,20\nb,2025-06-01,5\n";
    let inputs = crate::features::Inputs {
        orders: crate::data::Source::from_bytes("o.csv", orders.as_bytes()),
        events: None,
        customers: None,
        comments: None,
    };
    let scores = read_scores_from(
        Path::new("s.csv"),
        "customer_id,predicted_value,tier\na,10,A\nb,2,B\n".as_bytes(),
    )
    .unwrap();
    let kpis = crate::kpi::compute_kpis(inputs, &KpiParams::new(as_of), &opts)
        .unwrap()
        .with_tiers(&scores);
    let actuals = vec![("a".to_string(), 7.0), ("b".to_string(), 3.0)];
    let input = ReportInput {
        kpis: &kpis,
        scores: &scores,
        previous_scores: Some(&scores),
        model: None,
        actuals: Some(&actuals),
    };
    let html = render_html(&input);
    for id in CHART_IDS {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert_eq!(html.matches("<svg").count(), CHART_IDS.len());
    assert!(!html.contains("<script"));
    assert!(!html.contains("http://") || html.matches("http://").count() == CHART_IDS.len()); // xmlns only
    assert_eq!(html, render_html(&input));
}
