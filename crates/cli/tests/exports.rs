//! What `kartoteka build` leaves out of `out/`: columns the manifest marks sensitive.

mod common;

use common::{build, out_files, stderr, write_list_project};

#[test]
fn sensitive_columns_stay_in_the_register_but_not_in_out() {
    let dir = tempfile::tempdir().unwrap();
    let columns = r#""Фамилия" = "surname"
"Адрес" = { field = "residence", sensitive = true }
"#;
    write_list_project(dir.path(), "", columns, "Фамилия,Адрес\nИванов,ул. Тайная 7\n");
    let output = build(dir.path(), &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    for (name, bytes) in out_files(dir.path()) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("Тайная"), "{name} shows a sensitive cell");
        assert!(!text.contains("Адрес"), "{name} names a sensitive column");
    }
    let csv = std::fs::read_to_string(dir.path().join("out/assertions.csv")).unwrap();
    assert!(csv.contains("Иванов"), "the other columns are exported: {csv}");
    let register = store::Register::open_in(dir.path()).unwrap();
    let mut cells = Vec::new();
    register.for_each_current_record(|r| cells.extend(r.cells.into_iter().map(|c| c.raw))).unwrap();
    assert_eq!(cells, ["Иванов", "ул. Тайная 7"], "the register keeps everything");
}
