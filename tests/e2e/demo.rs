//! The demo's contacts (`wawebd --demo`, the simulator with `chatter`) answer what they are sent:
//! a quote with what it quoted, a picture once their phone verified it, a location; a plain text
//! gets no answer.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Client, Harness, Options};

const ALICE: &str = "4915100000001@s.whatsapp.net";

/// The next message event from Alice, skipping the acks and our own messages.
async fn answer(client: &mut Client) -> Value {
    loop {
        let event = client.event("message").await;
        if event["from_me"] == false && event["chat"] == ALICE {
            return event;
        }
    }
}

#[tokio::test]
async fn the_demo_contacts_answer_quotes_pictures_and_locations() {
    let mut harness = Harness::start_with(Options {
        // Long enough that the chatter never speaks during the test: only answers arrive.
        chatter: Some(Duration::from_secs(3600)),
        ..Options::default()
    })
    .await;
    let mut client = harness.pair().await;
    let said = harness
        .sim_command(json!({"cmd": "send_text", "from": ALICE, "text": "Lunch at noon?"}))
        .await;
    let said_id = said["id"].as_str().unwrap().to_owned();
    assert_eq!(answer(&mut client).await["text"], "Lunch at noon?");

    let reply = client
        .call(
            "send_text",
            json!({"to": ALICE, "text": "Sure", "quote": {"chat": ALICE, "id": said_id, "from_me": false}}),
        )
        .await
        .unwrap();
    let answered = answer(&mut client).await;
    assert_eq!(
        answered["text"],
        "You quoted “Lunch at noon?” — yes, I said that."
    );
    assert_eq!(answered["quoted"]["id"], reply["id"], "{answered}");

    let picture = harness.dir.path().join("dot.png");
    let image = image::RgbImage::from_pixel(8, 8, image::Rgb([200, 10, 10]));
    image.save(&picture).unwrap();
    let sent = client
        .call(
            "send_media",
            json!({"to": ALICE, "kind": "image", "path": picture}),
        )
        .await
        .unwrap();
    let answered = answer(&mut client).await;
    assert_eq!(answered["text"], "Nice picture! 😍");
    assert_eq!(answered["quoted"]["id"], sent["id"]);
    assert_eq!(answered["quoted"]["kind"], "image");

    client
        .call(
            "send_location",
            json!({"to": ALICE, "latitude": 52.52, "longitude": 13.405, "name": "Alexanderplatz"}),
        )
        .await
        .unwrap();
    assert_eq!(
        answer(&mut client).await["text"],
        "See you at Alexanderplatz!"
    );

    // A plain text gets no answer: the next one is for the contact card sent after it.
    client
        .call("send_text", json!({"to": ALICE, "text": "ok"}))
        .await
        .unwrap();
    client
        .call(
            "send_contact",
            json!({"to": ALICE, "contacts": [{"display_name": "Bob", "vcard": "BEGIN:VCARD\nVERSION:3.0\nFN:Bob\nEND:VCARD"}]}),
        )
        .await
        .unwrap();
    assert_eq!(answer(&mut client).await["text"], "Thanks, I saved Bob.");
}
