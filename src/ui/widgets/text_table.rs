//! A virtual-scrolling table of text cells (the Audit tab, the bulk dialog's dry-run and result
//! lists): only the rows on screen are built, so thousands of rows cost no more per frame than a
//! screenful.

use crate::ui::style::ROW_HEIGHT;
use eframe::egui;
use egui_extras::{Column, TableBuilder};

/// How a text table is laid out.
#[derive(Debug, Clone, Copy)]
pub struct TextTable<'a, const N: usize> {
    /// egui id salt (distinct per table on screen).
    pub salt: &'a str,
    /// Column headers.
    pub headers: [&'a str; N],
    /// Initial widths of the first `N - 1` columns (the last one takes the rest); extra entries
    /// are ignored.
    pub widths: &'a [f32],
    /// The narrowest a column can be resized to (the last one: at least 80 points).
    pub min_width: f32,
    /// Height at which the body scrolls (`None`: the space available).
    pub max_height: Option<f32>,
}

impl<const N: usize> TextTable<'_, N> {
    /// Draws `len` rows; `row(i)` gives the cells of row `i` only when it is on screen (`None`:
    /// an empty row).
    pub fn show(&self, ui: &mut egui::Ui, len: usize, row: impl Fn(usize) -> Option<[String; N]>) {
        let mut builder = TableBuilder::new(ui)
            .id_salt(self.salt)
            .striped(true)
            .resizable(true)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center));
        if let Some(height) = self.max_height {
            builder = builder.max_scroll_height(height);
        }
        for i in 0..N {
            builder = match self.widths.get(i) {
                Some(&width) if i + 1 < N => {
                    builder.column(Column::initial(width).at_least(self.min_width).clip(true))
                }
                _ => builder.column(Column::remainder().at_least(80.0).clip(true)),
            };
        }
        builder
            .header(ROW_HEIGHT, |mut header| {
                for h in self.headers {
                    header.col(|ui| {
                        ui.strong(h);
                    });
                }
            })
            .body(|body| {
                body.rows(ROW_HEIGHT, len, |mut table_row| {
                    let Some(cells) = row(table_row.index()) else {
                        return;
                    };
                    for cell in cells {
                        table_row.col(|ui| {
                            ui.label(cell);
                        });
                    }
                });
            });
    }
}
