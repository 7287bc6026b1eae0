//! SMI enterprise numbers of UPS and network card vendors, for naming a
//! device from its `sysObjectID` when the card has no vendor ident object
//! (a Galaxy 7000's MGE card, a Delta Mini-SNMP card, a PowerNet-only
//! Smart-UPS). Numbers from the IANA registry, each seen in a real walk or
//! a vendor MIB.

use crate::oid::Oid;

/// `(enterprise number, vendor name)`.
pub static VENDORS: &[(u32, &str)] = &[
    (318, "APC"),
    (476, "Liebert"),
    (534, "Eaton"),
    (705, "MGE UPS Systems"),
    (935, "Phoenixtec"),
    (2254, "Delta Electronics"),
    (5491, "Riello UPS"),
    (12551, "CE+T Power"),
];

const ENTERPRISES: [u32; 6] = [1, 3, 6, 1, 4, 1];

/// The vendor whose enterprise arc `oid` lies under.
pub fn vendor_of(oid: &Oid) -> Option<&'static str> {
    vendor_label(oid).map(crate::pages::Label::as_str)
}

/// [`vendor_of`] as a reading's label.
pub fn vendor_label(oid: &Oid) -> Option<crate::pages::Label> {
    let arcs = oid.arcs();
    let enterprise = *arcs.strip_prefix(&ENTERPRISES[..])?.first()?;
    VENDORS
        .iter()
        .find(|(number, _)| *number == enterprise)
        .map(|(_, name)| crate::pages::Label::new(name))
}

/// The enterprise OID of a vendor name (the inverse, for the simulator and
/// read-backs).
pub fn enterprise_of(name: &str) -> Option<Oid> {
    let (number, _) = VENDORS.iter().find(|(_, n)| *n == name)?;
    Some(Oid::parse("1.3.6.1.4.1").expect("valid").child(*number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendors_from_sys_object_ids_of_real_walks() {
        let vendor = |s: &str| vendor_of(&Oid::parse(s).unwrap());
        assert_eq!(vendor("1.3.6.1.4.1.318.1.3.27"), Some("APC"));
        assert_eq!(vendor("1.3.6.1.4.1.705.1.2"), Some("MGE UPS Systems"));
        assert_eq!(vendor("1.3.6.1.4.1.2254.2.5"), Some("Delta Electronics"));
        assert_eq!(vendor("1.3.6.1.2.1.33"), None, "not under enterprises");
        assert_eq!(vendor("1.3.6.1.4.1.99999.1"), None);
        assert_eq!(
            enterprise_of("Riello UPS").unwrap().to_string(),
            "1.3.6.1.4.1.5491"
        );
        let numbers: std::collections::HashSet<u32> = VENDORS.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers.len(), VENDORS.len(), "one name per enterprise");
    }
}
