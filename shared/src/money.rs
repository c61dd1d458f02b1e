//! Amounts in fen (分, 1/100 yuan) as staff type and read them: "120", "120.5", "¥120.50".

/// Fen as yuan with two decimals: 12345 → "¥123.45".
pub fn format_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    format!("{sign}¥{}.{:02}", fen / 100, fen % 100)
}

/// Yuan as typed (digits, at most two decimals, an optional ¥ or 元, full-width digits and
/// point accepted as a Chinese keyboard types them) → fen. `None` for anything else, a
/// negative amount, or more than `max_fen`.
pub fn parse_yuan(text: &str, max_fen: i64) -> Option<i64> {
    let normal: String = text
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            '．' | '。' => '.',
            other => other,
        })
        .collect();
    let bare = normal
        .trim_start_matches(['¥', '￥'])
        .trim_end_matches('元')
        .trim();
    let (whole, decimals) = bare.split_once('.').unwrap_or((bare, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || whole.len() > 12 || decimals.len() > 2 || !digits(whole) {
        return None;
    }
    if !digits(decimals) || (bare.contains('.') && decimals.is_empty()) {
        return None;
    }
    let cents = format!("{decimals:0<2}").parse::<i64>().ok()?;
    let fen = whole
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(cents)?;
    (fen <= max_fen).then_some(fen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_fen_as_yuan() {
        assert_eq!(format_yuan(12_345), "¥123.45");
        assert_eq!(format_yuan(5), "¥0.05");
        assert_eq!(format_yuan(0), "¥0.00");
        assert_eq!(format_yuan(-150), "-¥1.50");
    }

    #[test]
    fn parses_what_staff_type() {
        let max = 100_000_000;
        assert_eq!(parse_yuan("120", max), Some(12_000));
        assert_eq!(parse_yuan(" 120.5 ", max), Some(12_050));
        assert_eq!(parse_yuan("¥120.05", max), Some(12_005));
        assert_eq!(parse_yuan("80元", max), Some(8_000));
        assert_eq!(parse_yuan("１２０．５", max), Some(12_050));
        assert_eq!(parse_yuan("0", max), Some(0));
        assert_eq!(parse_yuan(&format_yuan(98_765), max), Some(98_765));
    }

    #[test]
    fn refuses_what_is_not_an_amount() {
        let max = 100_000_000;
        for bad in [
            "",
            "abc",
            "-5",
            "1.234",
            "1.",
            ".5",
            "1,000",
            "1e3",
            "12 34",
            "¥",
            "99999999999999",
        ] {
            assert_eq!(parse_yuan(bad, max), None, "{bad:?}");
        }
        assert_eq!(parse_yuan("1000000.01", max), None);
        assert_eq!(parse_yuan("1000000", max), Some(max));
    }
}
