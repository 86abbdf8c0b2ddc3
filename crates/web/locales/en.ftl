### The readers' web pages, English. Every key here is also in zh-Hant.ftl (a test checks).

site-name = Library Account
skip-to-content = Skip to the content
switch-language = 中文
language-name = English
sign-in = Sign in
sign-out = Sign out
nav-label = Main
nav-account = My Account
nav-catalogue = Catalogue
nav-info = My Info
nav-settings = My Setting
nav-ask = Ask a Librarian
nav-libraries = Libraries
nav-help = Help
footer-text = Questions about your account? Ask a Librarian, or visit any library with your library card.
reason-unknown = The request was refused ({ $code }).
too-many-attempts = Too many attempts. Please try again in { $minutes ->
    [one] 1 minute
   *[other] { $minutes } minutes
}.

## Errors
error-home = Go to My Account
error-not-found-title = Page not found
error-not-found = There is no such page. It may have moved, or the address may be mistyped.
error-too-large-title = Too much text
error-too-large = The form sent was too large. Please shorten it and try again.
error-bad-request-title = Request not understood
error-bad-request = The address or the form could not be understood.
error-unavailable-title = Service unavailable
error-unavailable = The service is not available at the moment. Nothing was changed. Please try again in a few minutes.
form-expired-title = Please try again
form-expired = This form has expired or was not sent from this site, so nothing was changed. Reload the page and send it again.
form-expired-back = Reload the page

## Flash messages after a change
done-signed-out = You have signed out.
done-password-changed = Your Password has been changed.
done-reset-requested = If this email belongs to a library account, a temporary password is on its way. It is valid for 24 hours and for one sign-in.
done-nothing-selected = Tick the loans you want to renew first.
done-nothing-to-renew = You have nothing on loan to renew.
done-hold-placed = Your reservation has been placed.
done-loan-reported-lost = The item is reported lost. Its replacement cost, a 20% processing fee and any overdue fine are now among your charges. If you find it, bring it back: what you have not paid of the replacement and processing is then cancelled.
done-loan-not-found = That loan was not found: it may have been returned already.
done-hold-cancelled = Your reservation has been cancelled.
done-hold-not-found = That reservation was not found.
done-hold-ended = That reservation had already ended.
done-hold-suspended = Your reservation is suspended until the date you chose. It keeps its place in the queue.
done-hold-resumed = Your reservation is active again.
done-hold-not-needed-saved = The date after which you no longer need the item has been saved.
done-hold-date-invalid = Please give a date as YYYY-MM-DD.
done-hold-not-queued = Only a reservation still in the queue can be suspended.
done-suspended-until-not-after-today = The suspension must end after today.
done-suspended-until-too-far = A reservation can be suspended for at most one year.
done-not-needed-after-in-past = That date has already passed.
done-not-needed-after-too-far = The date can be at most two years ahead.
done-activity-registered = You are registered for the activity.
done-activity-cancelled = Your registration has been cancelled.
done-enquiry-sent = Your question has been sent. A librarian will answer here.
done-settings-saved = Your settings have been saved.
done-pin-changed = Your PIN has been changed.

## Fields
field-card-number = Library card number
field-password = Password
field-current-password = Current Password (or temporary password)
field-new-password = New Password
field-confirm-password = New Password again
field-email = Email
field-password-for-email = Password (only to change the email)
field-sms = Mobile number for SMS
field-language = Language
field-keep-history = Keep my reading history
field-new-pin = New PIN
field-subject = Subject
field-message = Your question
field-library-optional = Library (optional)

## Sign in
sign-in-title = Sign in
sign-in-intro = Sign in with your library card number and your Password.
sign-in-button = Sign in
sign-in-invalid = The card number or the Password is not right.
sign-in-default-hint = First time? Your Password is the last 4 digits of the phone number you registered; you will be asked to choose a new one.
forgot-link = Forgot your password?
back-to-sign-in = Back to sign in

## Password
password-title = Change Password
password-forced = Please choose a new Password before you go on. Your current one is a default or temporary password.
password-rules-title = Your new Password must:
password-button = Change Password
password-confirm-mismatch = The two new Passwords are not the same.
password-current-wrong = The Password is not right.
password-link = Change your Password
password-must = The new Password must { $rule }.
password-rule-too-short = have at least 8 characters
password-rule-too-long = have at most 128 characters
password-rule-missing-uppercase = contain an upper-case letter (A–Z)
password-rule-missing-lowercase = contain a lower-case letter (a–z)
password-rule-missing-digit = contain a digit (0–9)
password-rule-common-password = not be a common password (such as Password1)
password-rule-contains-personal-info = not contain your card number, phone digits, name or email
password-rule-context-word = not contain the library's name (such as library, HKPL, Hong Kong, LCSD)
password-rule-same-as-current = differ from your current Password
password-rule-control-character = not contain invisible or control characters

## Forgot password
forgot-title = Forgot your password?
forgot-intro = Enter the email registered with your library account. We will send a temporary password to it.
forgot-button = Send a temporary password
forgot-email-invalid = Please enter an email address.
forgot-no-email = No email registered, or forgotten it? Please ask for a Password reset in person at any library.

## My Account
account-title = My Account
account-greeting = Hello, { $name }
account-card-expires = card valid until { $date }
account-suspended = You may borrow again from { $date }.
account-as-of = As of { $at }.
loans-title = On loan
loans-none = You have nothing on loan.
loans-select = Select
loans-select-one = Select { $title }
renewals-left = { $count ->
    [one] 1 renewal left
   *[other] { $count } renewals left
}
loan-overdue = { $days ->
    [one] 1 day overdue
   *[other] { $days } days overdue
}, fine so far { $amount }
renew-selected = Renew selected
renew-all = Renew all
renew-results-title = Renewal results
renew-done = Renewed: { $title }.
renew-refused = Not renewed: { $title }. { $reason }
renewal-refused-too-many-renewals = No renewals are left for this item.
renewal-refused-on-hold-for-another = Another reader has reserved this title.
renewal-refused-patron-suspended = Your borrowing is suspended.
renewal-refused-fines-over-limit = Your outstanding charges are over the limit; please pay them first.
renewal-refused-card-expired = Your library card has expired; please renew it at a library.
renewal-refused-too-soon = It is too soon to renew this item.
renewal-refused-not-found = This loan is no longer on your account.
holds-title = Reservations
holds-none = You have no reservations.
holds-find = Find something to reserve.
hold-cancel = Cancel
hold-cancel-one = Cancel the reservation of { $title }
hold-status-queued = In the queue
hold-status-waiting = Ready for pickup
hold-status-collected = Collected
hold-status-expired = Not collected in time
hold-status-cancelled = Cancelled
hold-cancelled-by-reader = Cancelled by you
hold-cancelled-by-staff = Cancelled by the library
hold-cancel-reason = Reason: { $reason }
hold-suspend-until = Suspend until
hold-suspend = Suspend
hold-suspend-one = Suspend the reservation of { $title }
hold-resume = Resume now
hold-resume-one = Resume now: the reservation of { $title }
hold-not-needed-after = Not needed after
hold-not-needed-save = Save date
hold-not-needed-save-one = Save date after which { $title } is not needed
charges-title = Charges
charges-outstanding = Outstanding, with the fines still accruing:
charges-hint = Charges are paid at any library counter.
charge-overdue = Overdue fine, { $days ->
    [one] 1 day
   *[other] { $days } days
} ({ $item })
charge-hold-fee = Reservation fee
charge-lost-item = Replacement of a lost item ({ $item })
charge-lost-processing = Processing fee for a lost item ({ $item })
charge-outstanding = Outstanding
charge-paid = Paid
charge-waived = Waived
history-link = Reading history
history-title = Reading history
history-none = No returned loans to show.
history-off = Your reading history is not being kept. You can turn it on in My Setting.
history-since = Kept since { $date }.
back-to-account = Back to My Account
col-title = Title
col-due = Due
col-renewals-left = Renewals
col-fine = Overdue
col-library = Library
col-status = Status
col-position = Queue position
col-pickup = Pickup library
col-pickup-by = Pick up by
col-suspended-until = Suspended until
col-not-needed-after = Not needed after
col-action = Action
col-date = Date
col-reason = Reason
col-amount = Amount
col-outstanding = Outstanding
col-borrowed = Borrowed
col-returned = Returned
col-event = Event Title
col-time = Time
col-venue = Venue
col-type = Type
col-places = Places
col-library-name = Library Name
col-content = Content
col-kind = Kind
col-today = Today
col-next-open = Opens next

## Catalogue
catalogue-title = Catalogue
search-label = Title, author or ISBN
search-button = Search
search-library-label = Count copies at
search-all-libraries = All libraries
search-copies-at = Copies counted at { $library }.
search-hint = Every word must appear in the title, the author or the ISBN.
search-count = { $count ->
    [0] Nothing found.
    [one] 1 title found.
   *[other] { $count } titles found.
}
search-availability = { $available } of { $copies ->
    [one] 1 copy
   *[other] { $copies } copies
} available now
search-q-missing = Please enter a word to search for.
search-q-too-long = The search is too long.
search-page-invalid = There is no such page of results.
search-per-page-invalid = That number of results per page is not offered.
search-unknown-library = There is no such library.
reserve-pickup = Pick up at
reserve-button = Reserve
reserve-sign-in = Sign in to reserve
hold-refused = The reservation was not placed: { $reason }
hold-refused-already-on-loan = you have this title on loan.
hold-refused-already-on-hold = you have already reserved this title.
hold-refused-quota-reached = you have reached the number of reservations allowed.
hold-refused-fines-over-limit = your outstanding charges are over the limit.
hold-refused-patron-suspended = your borrowing is suspended.
hold-refused-card-expired = your library card has expired.
hold-refused-title-not-found = the title was not found.
hold-refused-unknown-library = there is no such pickup library.
pager-label = Pages of results
pager-previous = Previous
pager-next = Next
pager-position = Page { $page } of { $pages }

## My Info
info-title = My Info
activities-title = Extension activities
activities-none = No activities are coming up.
activity-register = Register
activity-register-one = Register for { $title }
activity-cancel = Cancel registration
activity-cancel-one = Cancel registration for { $title }
activity-registered = Registered
activity-places = { $left } of { $capacity } places left
activity-type-story-time = Story time
activity-type-talk = Talk
activity-type-workshop = Workshop
activity-refused-cancelled = The activity has been cancelled.
activity-refused-already-registered = You are already registered.
activity-refused-started = The activity has already started.
activity-refused-closed = Registration has closed.
activity-refused-full = The activity is full.
activity-refused-not-found = That activity or registration was not found.
notices-title = Library notices
notices-none = There are no notices.
notice-all-libraries = All libraries

## My Setting
settings-title = My Setting
settings-contact = Contact
settings-password-hint = Needed only when you change your email, since temporary passwords are sent there.
settings-password-required = Enter your Password to change your email.
settings-channels = Send my notices by
channel-email = Email
channel-sms = SMS
settings-preferences = Preferences
settings-save = Save settings
settings-email-invalid = This is not a valid email address.
settings-sms-number-invalid = This is not a valid mobile number.
settings-no-channel-address = Give the email or mobile number for each way you chose.
pin-title = Change PIN
pin-intro = The PIN is for telephone renewal, self-charging terminals and self-service library stations.
pin-rules = 4 to 12 digits; not easy to guess (not 1234, 0000 or a year).
pin-button = Change PIN
pin-rule-not-digits = The PIN must be digits only.
pin-rule-too-short = The PIN must have at least 4 digits.
pin-rule-too-long = The PIN must have at most 12 digits.
pin-rule-trivial-pin = This PIN is too easy to guess.
pin-rule-same-as-current = The new PIN must differ from the current one.

## Ask a Librarian
ask-title = Ask a Librarian
ask-intro = Ask us anything about the library or your account. The answer will appear below.
ask-any-library = Any library
ask-button = Send question
enquiries-title = Your questions
enquiries-none = You have not asked anything yet.
enquiry-waiting = Waiting for an answer.
enquiry-answered = Answered { $at }:
enquiry-subject-missing = Please give a subject.
enquiry-subject-too-long = The subject may have at most 200 characters.
enquiry-subject-invalid = The subject contains characters that are not allowed.
enquiry-message-missing = Please write your question.
enquiry-message-too-long = The question may have at most 4,000 characters.
enquiry-message-invalid = The question contains characters that are not allowed.
enquiry-unknown-library = There is no such library.

## Libraries
libraries-title = Libraries
libraries-today = Today, { $date }.
libraries-none = No libraries yet.
library-open = Open
library-closed = Closed
library-kind-central = Central library
library-kind-major = Major library
library-kind-district = District library
library-kind-small = Small library
library-kind-mobile = Mobile library
col-hours = Hours
col-sections = Sections open today
col-door-services = Serving while closed
col-section = Section
list-separator = { ", " }
library-closes-at = Closes at { $time }
library-opens-next = Opens { $when }
library-never-opens = No opening in the coming year
library-book-drop = Book drop
library-self-service = Self-service library station
library-day-closed = Closed
library-sections-none = No sections listed.
library-back = All libraries
library-doors-title = Serving while the library is closed
library-sections-title = Sections
library-week-title = Opening hours, the next 7 days
section-status-until = { $status } from { $from } to { $until }
section-status-notice = { $status } from { $from } until further notice
section-adult = Adult library
section-young_adult = Young adult library
section-children = Children's library
section-study_room = Students' study room
section-computer = Computer facilities
weekday-0 = Monday
weekday-1 = Tuesday
weekday-2 = Wednesday
weekday-3 = Thursday
weekday-4 = Friday
weekday-5 = Saturday
weekday-6 = Sunday

## Help
help-title = Help
help-topic-password = Password
help-topic-pin = PIN
help-topic-account = Your account
help-q-1 = What is the difference between the Password and the PIN?
help-a-1 = The Password signs you in to online services: these pages, to renew, reserve and manage your account. The PIN is for telephone renewal, self-charging terminals and self-service library stations.
help-q-2 = How do I know my Password and PIN?
help-a-2 = Unless you changed them, both are the last 4 digits of the phone number you registered. After signing in with the default Password you must choose a new one before anything else.
help-q-3 = What makes a good Password?
help-a-3 = At least 8 characters with an upper-case letter, a lower-case letter and a digit. Common passwords (such as Password1 or Summer2025) and passwords containing your card number, phone digits, name or email are refused. The Change Password page checks each rule as you type.
help-q-4 = How do I change my Password?
help-a-4 = Sign in, open My Setting and choose "Change your Password". You need your current Password. Every other place where you are signed in is signed out.
help-q-5 = I forgot my Password. How do I reset it?
help-a-5 = On the sign-in page choose "Forgot your password?" and enter the email registered with your account. A temporary password is sent to it; it is valid for 24 hours and for one sign-in, after which you choose a new Password. At most 3 are sent to one account in an hour. Without a registered email, ask for a reset in person at any library.
help-q-6 = How do I change my PIN?
help-a-6 = Sign in, open My Setting, and under "Change PIN" enter your Password and the new PIN.
help-q-7 = What PIN may I choose?
help-a-7 = 4 to 12 digits, and not one that is easy to guess, such as 1234, 0000, 2580 or a year.
help-q-8 = My PIN no longer works. Why?
help-a-8 = After 10 wrong PINs in a row the PIN is locked, so that nobody can try every number. Choose a new PIN in My Setting (with your Password), or ask at any library to reset it to the default.
help-q-9 = How long may I keep a loan, and how often may I renew it?
help-a-9 = Most items are lent for 14 days and may be renewed 5 times in a row, each time for 14 days from the renewal, unless another reader has reserved the title. You may borrow up to 10 items.
help-q-10 = What are the overdue fines?
help-a-10 = For adult items HK$1.50 for each day after the due date (days of a fine-suspension period are not charged). My Account shows the fine accruing on each overdue item. When your charges reach HK$100.00 you cannot borrow, renew or reserve until you pay.
help-q-11 = What does a reservation cost?
help-a-11 = HK$3.30 per item, charged when you collect it. You are told when it is ready for pickup; it waits for you at the library you chose for 7 days that library is open.

## Reporting a loss
loan-report-lost = Report lost
lost-title = Report a lost item
lost-item = { $title } (barcode { $barcode })
lost-explained = If you report this item lost, the loan ends and you are charged its replacement cost, a processing fee of 20% of it, and the overdue fine to today. If you find it later and bring it back, what you have not yet paid of the replacement cost and the processing fee is cancelled; what you have paid is refunded at the counter. The overdue fine stays.
lost-confirm = Report it lost
lost-cancel = Keep the loan

visitors-title = Register your visit
visitors-intro = Before you enter a library, register your name, a contact phone number and the library you visit, for contact tracing if a confirmed case is found. The date and time of the visit are recorded as now.
visitors-link = Visiting a library? Register your visit
visitors-name = Name
visitors-phone = Contact phone number
visitors-library = Library
visitors-submit = Register
visitors-retention = Your registration is kept for { $days } days, then deleted. Only staff allowed to trace contacts may read it.
visitors-done = Your visit to { $library } at { $time } is registered. Thank you.
visitors-error-name = Enter your name (at most 100 characters).
visitors-error-phone = Enter a phone number of 8 to 15 digits.
visitors-error-library = Choose a library from the list.
visitors-error-too-many = Too many registrations from this connection; try again in an hour.
## Students' Study Rooms
nav-study-rooms = Study Rooms
study-rooms-title = Students' Study Rooms
study-rooms-intro = During the examination period the study rooms open longer. Apply once for an admission card; if there are more applications than places, lots are drawn, most places going to examination candidates.
study-rooms-open = Open for applications
study-rooms-none-open = No scheme is open for your application now.
study-rooms-mine = My applications
study-rooms-none-mine = You have not applied.
study-room-window = Applications
study-room-validity = Card valid
study-room-extended = Extended hours
study-room-library = Study room
study-room-all-libraries = All libraries
study-room-places = Places
study-room-places-value = { $places } places, { $percent }% for examination candidates
study-room-candidate = I am a public or professional examination candidate
study-room-exam = Examination (optional)
study-room-apply = Apply for a card
col-scheme = Scheme
col-applied-on = Date counted
col-staff-reason = Library's reason
study-room-status-pending = Waiting for the ballot
study-room-status-approved = Card approved
study-room-status-not-selected = Not selected
study-room-status-rejected = Rejected
study-room-status-revoked = Card revoked
done-study-room-applied = Your application has been received.
study-room-refused-before-window = Applications have not opened yet.
study-room-refused-after-window = Applications have closed.
study-room-refused-ballot-already-run = The ballot has been drawn; applications are closed.
study-room-refused-already-applied = You have already applied for this scheme.
study-room-refused-exam-invalid = The examination's name is too long or has characters that are not allowed.
study-room-refused-not-found = That scheme was not found.
