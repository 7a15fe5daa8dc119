module kur.dev/images/go/kur-runc

go 1.26.0
